"""OPA bundles: a gzipped tarball of policy and data, from a file or polled from a bundle
server.

- `archive`: the .tar.gz, read as an untrusted stream into a PolicySource;
- `documents`: the data documents and the manifest inside it;
- `poller`: OPA's bundle service protocol (conditional GETs, back-off);
- `health`: what the metrics and /readyz say about the polled bundle: failures by reason,
  the time of the last activation, staleness;
- `errors`: why a bundle is refused, as a bounded set of reasons.

Import from the modules: this package imports nothing, so reading a bundle file at start
does not load the HTTP client.
"""
