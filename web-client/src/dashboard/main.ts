import "./dashboard.css";
import { describeError, element } from "./format.js";
import { JobPage } from "./job-page.js";
import { showJobs } from "./jobs-list.js";
import { Session } from "./session.js";

/**
 * The owner dashboard: sign in with an API key (kept for this tab's session only), the tenant's
 * jobs, and a live page per job. Routes live in the hash (`#/`, `#/jobs/<id>`): the page never
 * reloads, and the key never appears in a URL.
 */
const params = new URLSearchParams(location.search);
const session = new Session(params.get("control") ?? location.origin);
const main = document.getElementById("view")!;
const signOut = document.getElementById("sign-out") as HTMLButtonElement;
let page: JobPage | null = null;

function showSignIn(error = ""): void {
  signOut.hidden = true;
  const form = element("form", "", "sign-in");
  const input = element("input");
  Object.assign(input, { type: "password", id: "api-key", autocomplete: "off", required: true, placeholder: "pk_…" });
  const label = element("label", "Your tenant's API key ");
  label.append(input);
  const note = element("p", "The key stays in this tab's session storage and is sent only as a bearer header to this control plane.", "muted");
  const failure = element("p", error, "error");
  failure.id = "sign-in-error";
  form.append(label, element("button", "Sign in"), note, failure);
  form.onsubmit = (event) => {
    event.preventDefault();
    session.signIn(input.value).then(
      () => route(),
      (e: unknown) => showSignIn(describeError(e)),
    );
  };
  main.replaceChildren(element("h2", "Sign in"), form);
  input.focus();
}

async function route(): Promise<void> {
  page?.close();
  page = null;
  const client = session.client();
  if (!client) return showSignIn();
  signOut.hidden = false;
  const job = /^#\/jobs\/([^/]+)$/.exec(location.hash)?.[1];
  try {
    if (job) {
      page = new JobPage(main, client, decodeURIComponent(job), session.apiKey!);
      await page.open();
    } else {
      main.replaceChildren(element("h2", "Jobs"), element("div"));
      await showJobs(main.lastElementChild as HTMLElement, client);
    }
  } catch (error) {
    main.append(element("p", describeError(error), "error"));
  }
}

signOut.onclick = () => {
  session.signOut();
  location.hash = "#/";
  void route();
};
window.addEventListener("hashchange", () => void route());
void route();
