import { createApp } from "./app.js";
import { countObjectCalls } from "./diagnostics/counted-objects.js";

export { JobObject } from "./job/job-object.js";
export { DirectoryObject } from "./directory/directory-object.js";
export { ClientManagerObject } from "./clients/client-manager-object.js";
export { AggregatorObject } from "./aggregation/aggregator-object.js";

countObjectCalls();

export default createApp();
