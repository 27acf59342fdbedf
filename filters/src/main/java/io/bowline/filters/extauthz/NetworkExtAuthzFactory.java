package io.bowline.filters.extauthz;

import io.bowline.core.filter.ClusterChannels;
import io.bowline.core.filter.ConnectionGate;
import io.bowline.core.filter.ConnectionInfo;
import io.bowline.core.filter.HttpFilterFactory;
import io.bowline.core.filter.HttpFilterProvider;
import io.bowline.core.stats.Counter;
import io.bowline.core.stats.Stats;
import io.bowline.xds.ConfigException;
import io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code envoy.filters.network.ext_authz}: a new connection is held — nothing read goes on — while the gRPC
 * authorization service is asked about it (both ends' addresses and principals, the SNI with
 * {@code include_tls_session}, the client certificate with {@code include_peer_certificate}); OK lets it on to the
 * terminal filter, a denial closes it, an error or timeout (200 ms default) closes it unless
 * {@code failure_mode_allow}. Stats {@code ext_authz.<stat_prefix>.total/ok/denied/error/failure_mode_allowed/
 * cx_closed}.
 */
public final class NetworkExtAuthzFactory implements HttpFilterFactory<ExtAuthz> {
  private static final Logger LOG = LoggerFactory.getLogger(NetworkExtAuthzFactory.class);

  @Override
  public String name() {
    return "envoy.filters.network.ext_authz";
  }

  @Override
  public String configTypeName() {
    return "envoy.extensions.filters.network.ext_authz.v3.ExtAuthz";
  }

  @Override
  public Class<ExtAuthz> configType() {
    return ExtAuthz.class;
  }

  @Override
  public ExtAuthz defaultConfig() {
    return ExtAuthz.getDefaultInstance();
  }

  @Override
  public HttpFilterProvider create(ExtAuthz config, FactoryContext context) throws ConfigException {
    throw new ConfigException(context.fieldPath() + ".typed_config",
        "envoy.filters.network.ext_authz is a network filter: it goes in filter_chains[].filters");
  }

  private record Counters(Counter total, Counter ok, Counter denied, Counter error, Counter failureModeAllowed,
      Counter closed) {}

  @Override
  public ConnectionGate connectionGate(ExtAuthz c, FactoryContext context) throws ConfigException {
    String path = context.fieldPath() + ".typed_config";
    if (c.getStatPrefix().isEmpty()) {
      throw new ConfigException(path + ".stat_prefix", "required");
    }
    AuthzService service = AuthzService.of(c.getGrpcService(), path + ".grpc_service", context.clusters());
    if (!c.getBootstrapMetadataLabelsKey().isEmpty()) {
      throw new ConfigException(path + ".bootstrap_metadata_labels_key", "not supported by bowline yet");
    }
    if (c.hasFilterEnabledMetadata()) {
      throw new ConfigException(path + ".filter_enabled_metadata", "a connection has no dynamic metadata here");
    }
    Stats.Scope scope = context.stats().stats().scope("ext_authz." + c.getStatPrefix()
        + (c.getStatPrefix().endsWith(".") ? "" : "."));
    Counters counters = new Counters(scope.counter("total"), scope.counter("ok"), scope.counter("denied"),
        scope.counter("error"), scope.counter("failure_mode_allowed"), scope.counter("cx_closed"));
    var clusters = context.clusters();
    boolean failOpen = c.getFailureModeAllow();
    boolean withCertificate = c.getIncludePeerCertificate();
    boolean withTls = c.getIncludeTlsSession();
    return new ConnectionGate() {
      @Override
      public boolean admit(ConnectionInfo connection) {
        throw new IllegalStateException("network ext_authz answers through decide()");
      }

      @Override
      public void decide(ConnectionInfo connection, EventLoop loop, Consumer<Boolean> done) {
        counters.total().inc();
        AttributeContext.Peer.Builder source = Peers.peer(connection.remote(), Peers.principal(connection.tls(), true))
            .toBuilder();
        if (withCertificate) {
          source.setCertificate(Peers.certificate(connection.tls()));
        }
        AttributeContext.Builder attrs = AttributeContext.newBuilder().setSource(source)
            .setDestination(Peers.peer(connection.local(), Peers.principal(connection.tls(), false)));
        if (withTls && connection.serverName() != null) {
          attrs.setTlsSession(AttributeContext.TLSSession.newBuilder().setSni(connection.serverName()));
        }
        AuthorizationGrpc.newStub(ClusterChannels.of(clusters, service.cluster(), service.authority()))
            .withDeadlineAfter(service.timeoutMs(), TimeUnit.MILLISECONDS)
            .check(CheckRequest.newBuilder().setAttributes(attrs).build(), new StreamObserver<CheckResponse>() {
              @Override
              public void onNext(CheckResponse r) {
                boolean ok = r.getStatus().getCode() == 0;
                (ok ? counters.ok() : counters.denied()).inc();
                if (!ok) {
                  counters.closed().inc();
                }
                loop.execute(() -> done.accept(ok));
              }

              @Override
              public void onError(Throwable t) {
                counters.error().inc();
                LOG.debug("network ext_authz: the authorization service failed: {}", t.toString());
                if (failOpen) {
                  counters.failureModeAllowed().inc();
                } else {
                  counters.closed().inc();
                }
                loop.execute(() -> done.accept(failOpen));
              }

              @Override
              public void onCompleted() {}
            });
      }
    };
  }
}
