// MISP feeds: what the node pulls and publishes (issue 12). Filled in with the feeds.
export {};
