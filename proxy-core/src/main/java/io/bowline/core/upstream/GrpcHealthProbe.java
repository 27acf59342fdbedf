package io.bowline.core.upstream;

import io.bowline.core.config.HealthCheckConfig;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoop;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * {@code grpc_health_check}: the standard {@code grpc.health.v1.Health/Check} call over a channel kept per host. The
 * two one-field messages are written and read by hand (the health protos are not among bowline's dependencies):
 * request field 1 is the service name, response field 1 the serving status, SERVING being 1.
 */
final class GrpcHealthProbe extends HealthProbe {
  /** The health check method with raw message bytes (the test service of this package serves it too). */
  static final MethodDescriptor<byte[], byte[]> CHECK = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("grpc.health.v1.Health/Check")
      .setRequestMarshaller(new Bytes())
      .setResponseMarshaller(new Bytes())
      .build();

  private final byte[] request;
  private final ManagedChannel channel;

  GrpcHealthProbe(HealthCheckConfig.Grpc grpc, Cluster cluster, UpstreamHost host, EventLoop loop, long timeoutMs) {
    super(cluster, host, loop, timeoutMs);
    byte[] name = grpc.serviceName().getBytes(StandardCharsets.UTF_8);
    this.request = name.length == 0 ? new byte[0] : field1(name);
    this.channel = NettyChannelBuilder.forAddress(host.healthCheckAddress())
        .negotiationType(NegotiationType.PLAINTEXT)
        .overrideAuthority(grpc.authority() != null ? grpc.authority() : cluster.config().name())
        .directExecutor()
        .build();
  }

  private static byte[] field1(byte[] value) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0x0A); // field 1, length-delimited
    int n = value.length;
    while (n >= 0x80) {
      out.write((n & 0x7F) | 0x80);
      n >>>= 7;
    }
    out.write(n);
    out.write(value, 0, value.length);
    return out.toByteArray();
  }

  @Override
  void check(Done done) {
    ClientCalls.asyncUnaryCall(channel.newCall(CHECK, CallOptions.DEFAULT.withDeadlineAfter(timeoutMs,
        TimeUnit.MILLISECONDS)), request, new StreamObserver<>() {
          private byte @Nullable [] answer;

          @Override
          public void onNext(byte[] value) {
            answer = value;
          }

          @Override
          public void onError(Throwable t) {
            String why = Status.fromThrowable(t).toString();
            loop.execute(() -> done.done(HealthChecker.Result.NETWORK_FAILURE, why));
          }

          @Override
          public void onCompleted() {
            int status = servingStatus(answer);
            loop.execute(() -> done.done(status == 1 ? HealthChecker.Result.SUCCESS : HealthChecker.Result.FAILURE,
                "serving status " + status));
          }
        });
  }

  /** Field 1 (varint) of a HealthCheckResponse; 0 (UNKNOWN) when absent or unreadable. */
  static int servingStatus(byte @Nullable [] m) {
    if (m == null) {
      return 0;
    }
    try {
      com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(m);
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (tag == 0x08) {
          return in.readEnum();
        }
        in.skipField(tag);
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }

  @Override
  void close() {
    channel.shutdownNow();
  }

  /** Raw message bytes. */
  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription("cannot read the health answer").withCause(e).asRuntimeException();
      }
    }
  }
}
