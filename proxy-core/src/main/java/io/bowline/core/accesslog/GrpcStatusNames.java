package io.bowline.core.accesslog;

/** gRPC status codes by name, in the two spellings of Envoy's {@code %GRPC_STATUS(...)%}. */
final class GrpcStatusNames {
  private GrpcStatusNames() {}

  private static final String[] CAMEL = {"Ok", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
      "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
      "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"};

  static String name(int code, boolean snake) {
    if (code < 0 || code >= CAMEL.length) {
      return Integer.toString(code);
    }
    return snake ? io.grpc.Status.Code.values()[code].name() : CAMEL[code];
  }
}
