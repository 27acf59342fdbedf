/**
 * The immutable runtime model that Envoy's protos compile into. Everything here is built once per config version, off
 * the data path, and published whole through {@link io.bowline.core.config.ConfigStore}.
 */
package io.bowline.core.config;
