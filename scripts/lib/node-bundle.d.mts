export declare const ROOT: string;
export declare const BUILD_DIR: string;
export declare function bundleNodeEntry(entry: string, outdir: string, options?: { minify?: boolean }): Promise<string>;
