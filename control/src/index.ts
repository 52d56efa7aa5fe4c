import { createApp } from "./app.js";

export { JobObject } from "./job/job-object.js";
export { DirectoryObject } from "./directory/directory-object.js";

export default createApp();
