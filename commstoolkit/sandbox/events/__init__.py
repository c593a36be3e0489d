"""The sandbox's Twilio Event Streams (served under ``/events/v1``; live
``https://events.twilio.com/v1``): Sinks, Subscriptions, Types, and the Communications API's
events emitted to them as the sandbox clock moves sends along.

Its parts, each importing only those below it: ``service`` (``Events``, the account's
``events``) > ``delivery`` (the thread that POSTs batches) > ``outbox`` (what was emitted to
each sink and what became of it) | ``streams`` (the resources) > ``timeline`` (events read off
the sends' timelines) > ``catalogue`` (the event types) | ``signature`` (``X-Twilio-Signature``).
"""
