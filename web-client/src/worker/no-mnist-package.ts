/**
 * Stands in for the `mnist` package in the page's bundle: the tab reads the digits from the page's
 * static asset (`data/mnist-digits-v1.bin`), and reaching this module means that asset was not used.
 */
throw new Error("the mnist package is not bundled into the page; the digits come from data/mnist-digits-v1.bin");
