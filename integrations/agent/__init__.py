"""The on-premise Sage 100 write agent.

It runs on the Sage 100 server beside the Business Object Interface and takes
authenticated write calls from the hub. It imports nothing from Django, so it
can be installed on that server with Python and its backend alone.
"""
