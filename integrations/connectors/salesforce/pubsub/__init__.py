"""Salesforce Pub/Sub API (gRPC) stubs, generated from the vendor's proto.

Import ``pubsub_api_pb2`` / ``pubsub_api_pb2_grpc`` from here. Regenerate them
with ``python -m integrations.connectors.salesforce.pubsub.regenerate``.
"""
