"""A gRPC client DSS did not write: Python grpcio with server reflection.

Lists the services of a running DSS gateway through reflection, builds the request type of
CrmService.Get from the descriptors the server sends (no generated code, no .proto files) and
calls it over mutual TLS. Prints the services and the record's id; exits non-zero on failure.

    python3 reflection_client.py ADDR CA CERT KEY TENANT OBJECT ID
"""

import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def main(addr, ca, cert, key, tenant, obj, rid):
    read = lambda p: open(p, "rb").read()
    creds = grpc.ssl_channel_credentials(read(ca), read(key), read(cert))
    options = [("grpc.ssl_target_name_override", "localhost")]
    with grpc.secure_channel(addr, creds, options=options) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        services = sorted(db.get_services())
        print("services:", " ".join(services))
        pool = descriptor_pool.DescriptorPool(db)
        method = pool.FindMethodByName("dss.v1.CrmService.Get")
        request_type = message_factory.GetMessageClass(method.input_type)
        response_type = message_factory.GetMessageClass(method.output_type)
        request = request_type()
        request.ref.tenant, request.ref.object, request.ref.id = tenant, obj, rid
        get = channel.unary_unary(
            "/dss.v1.CrmService/Get",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )
        response = get(request, timeout=30)
        print("record:", response.record.id, response.record.object)
        print("decision:", response.decision.decision or "(same jurisdiction)", response.decision.route, "; ".join(response.decision.reasons))
        print("json:", response.record.json)


if __name__ == "__main__":
    main(*sys.argv[1:])
