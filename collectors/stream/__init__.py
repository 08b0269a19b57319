"""The live stream: a WebSocket (`/ws/stream`) on which clients subscribe to topics, and the
worker-side functions that publish to those topics through the channel layer after commit.

topics   what a client may subscribe to, and the channel-layer group behind each
publish  sending from sync code (workers, services), never failing the caller
consumer the socket: authentication, subscriptions, a bounded per-socket queue
routing  the URL pattern mounted by infrastructor.asgi
"""
