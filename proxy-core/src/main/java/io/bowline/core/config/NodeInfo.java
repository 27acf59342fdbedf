package io.bowline.core.config;

/**
 * Who this proxy is: its node id and cluster, its locality (as {@link ClusterConfig#localityKey} writes it), and the
 * cluster of its own service ({@code cluster_manager.local_cluster_name}, null when not set), which zone-aware
 * routing compares the upstream clusters with.
 */
public record NodeInfo(String id, String cluster, String locality,
    @org.jspecify.annotations.Nullable String localCluster) {}
