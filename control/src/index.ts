import { createApp } from "./app.js";

export { JobObject } from "./job/job-object.js";
export { DirectoryObject } from "./directory/directory-object.js";
export { ClientManagerObject } from "./clients/client-manager-object.js";
export { AggregatorObject } from "./aggregation/aggregator-object.js";

export default createApp();
