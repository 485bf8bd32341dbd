//! Networking that needs nothing from the image's C library, so the same
//! static binary works in glibc, musl and libc-less images: host names are
//! resolved by a pure-Rust stub resolver ([`dns`], reading `/etc/hosts` and
//! `/etc/resolv.conf`), never by libc's `getaddrinfo` (a static glibc cannot
//! load the NSS modules it needs, and loading another glibc's would crash);
//! TLS trusts bundled Mozilla roots plus the image's own store when it has
//! one ([`roots`]), so an image without `/etc/ssl` still reaches AWS.

pub mod dns;
pub mod roots;

use std::sync::{Arc, OnceLock};

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

pub use dns::HostResolver;

/// The HTTP client of every AWS client the supervisor makes (S3, Batch, and
/// the credential providers of `aws-config`): the SDK's default client
/// (hyper + rustls on aws-lc, proxy from the environment), with names
/// resolved by `resolver` and the trust store of [`roots::trust_store`].
pub fn aws_http_client(resolver: HostResolver) -> SharedHttpClient {
    // The trust store is read once, when the first connector is built (on
    // the first request, http or https alike: one connector serves both),
    // and shared by the connectors built later.
    let tls_context: Arc<OnceLock<TlsContext>> = Arc::default();
    Builder::new().build_with_connector_fn(move |settings, runtime_components| {
        let context = tls_context
            .get_or_init(|| {
                TlsContext::builder()
                    .with_trust_store(roots::trust_store())
                    .build()
                    .unwrap_or_else(|e| {
                        // Not reached with this SDK version (build() only
                        // wraps the fields); the SDK's default is the best left.
                        tracing::warn!(error = %e, "the TLS trust store is unusable: using the SDK's default");
                        TlsContext::default()
                    })
            })
            .clone();
        let mut conn = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context);
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        // As the SDK's default client does for the behavior version in use.
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build_with_resolver(resolver.clone())
    })
}
