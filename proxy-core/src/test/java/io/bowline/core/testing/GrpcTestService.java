package io.bowline.core.testing;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A gRPC service with string messages and no generated code: Unary echoes, ServerStream sends N replies, ClientStream
 * joins what it receives, Bidi echoes each message, Fail answers with a status and a custom trailer.
 */
public final class GrpcTestService implements BindableService {
  public static final Metadata.Key<String> TRAILER = Metadata.Key.of("x-test-trailer", Metadata.ASCII_STRING_MARSHALLER);

  public static final MethodDescriptor.Marshaller<String> STRING = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  };

  public static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
    return method("test.Test", name, type);
  }

  public static MethodDescriptor<String, String> method(String service, String name,
      MethodDescriptor.MethodType type) {
    return MethodDescriptor.<String, String>newBuilder().setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
        .setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
  }

  public static final MethodDescriptor<String, String> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
  public static final MethodDescriptor<String, String> SERVER_STREAM =
      method("ServerStream", MethodDescriptor.MethodType.SERVER_STREAMING);
  public static final MethodDescriptor<String, String> CLIENT_STREAM =
      method("ClientStream", MethodDescriptor.MethodType.CLIENT_STREAMING);
  public static final MethodDescriptor<String, String> BIDI = method("Bidi", MethodDescriptor.MethodType.BIDI_STREAMING);
  public static final MethodDescriptor<String, String> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);

  @Override
  public ServerServiceDefinition bindService() {
    return ServerServiceDefinition.builder("test.Test")
        .addMethod(UNARY, ServerCalls.asyncUnaryCall((req, obs) -> {
          obs.onNext("echo: " + req);
          obs.onCompleted();
        }))
        .addMethod(SERVER_STREAM, ServerCalls.asyncServerStreamingCall((req, obs) -> {
          int n = Integer.parseInt(req);
          for (int i = 0; i < n; i++) {
            obs.onNext("item " + i);
          }
          obs.onCompleted();
        }))
        .addMethod(CLIENT_STREAM, ServerCalls.asyncClientStreamingCall((StreamObserver<String> obs) -> new StreamObserver<String>() {
          final StringBuilder sb = new StringBuilder();

          @Override
          public void onNext(String v) {
            sb.append(v);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            obs.onNext(sb.toString());
            obs.onCompleted();
          }
        }))
        .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall((StreamObserver<String> obs) -> new StreamObserver<String>() {
          @Override
          public void onNext(String v) {
            obs.onNext("bidi: " + v);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            obs.onCompleted();
          }
        }))
        .addMethod(FAIL, ServerCalls.asyncUnaryCall((req, obs) -> {
          Metadata trailers = new Metadata();
          trailers.put(TRAILER, "kept");
          obs.onError(Status.FAILED_PRECONDITION.withDescription("no: " + req).asRuntimeException(trailers));
        }))
        .build();
  }
}
