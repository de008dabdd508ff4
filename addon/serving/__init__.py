"""How the add-on is served: the limits on one request, shared by the app and its gunicorn worker."""

# Google's event objects are small; anything far larger is not from Google.
MAX_BODY_BYTES = 1024 * 1024
# A request's line and headers together; Google's own headers and an ID token are a few kilobytes.
MAX_HEAD_BYTES = 64 * 1024
# From a connection's opening (or, kept alive, from its next request's first byte) to the end of the request.
REQUEST_SECONDS = 10.0
