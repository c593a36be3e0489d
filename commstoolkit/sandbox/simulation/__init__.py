"""The sandbox's simulation of the API's behaviour over its state: senders, pools and their
operations (``backend``, ``operations``), the routing and delivery of messages (``delivery``,
``messages``), and the clock they all follow."""
