//! Host name resolution without libc: hickory's stub resolver, configured
//! from `/etc/resolv.conf` (name servers, search list, ndots) and answering
//! from `/etc/hosts` first, as glibc does. Without a usable resolv.conf it
//! asks a name server on 127.0.0.1, glibc's default. Also turns
//! `AWS_LAMBDA_RUNTIME_API` into an address when it names a host, since the
//! Lambda runtime client would otherwise resolve it with `getaddrinfo`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;

/// Why a host name has no address.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("looking up {host} failed")]
    Lookup {
        host: String,
        #[source]
        source: hickory_resolver::net::NetError,
    },
    #[error("{host} has no address (in /etc/hosts or DNS)")]
    NoAddress { host: String },
}

/// The resolver shared by every client of the process (cheap to clone: the
/// cache and the name-server connections are shared).
#[derive(Clone)]
pub struct HostResolver {
    inner: TokioResolver,
}

impl std::fmt::Debug for HostResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostResolver")
    }
}

impl HostResolver {
    /// Reads `/etc/resolv.conf` and `/etc/hosts` of the image. Never fails:
    /// a missing or server-less resolv.conf means a name server on
    /// 127.0.0.1 (as glibc), and a missing hosts file means none.
    pub fn from_system() -> HostResolver {
        let mut builder = TokioResolver::builder_tokio().unwrap_or_else(|e| {
            tracing::debug!(error = %e, "no usable /etc/resolv.conf: asking a name server on 127.0.0.1");
            localhost_builder()
        });
        // A first, AAAA only when there is none: a name found in /etc/hosts
        // is then answered without asking DNS (as glibc does), and a name
        // server that ignores AAAA queries costs nothing. (hickory's default
        // asks both at once and waits for both.)
        builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4thenIpv6;
        let inner = builder.build().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the resolver configuration is unusable: asking a name server on 127.0.0.1");
            let mut builder = localhost_builder();
            builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4thenIpv6;
            builder
                .build()
                .expect("a resolver of one plain name server with default options always builds")
        });
        HostResolver { inner }
    }

    /// The addresses of `host` (an IP literal is returned as is).
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let found = self
            .inner
            .lookup_ip(host)
            .await
            .map_err(|source| LookupError::Lookup {
                host: host.to_string(),
                source,
            })?;
        let addrs: Vec<IpAddr> = found.iter().collect();
        if addrs.is_empty() {
            return Err(LookupError::NoAddress {
                host: host.to_string(),
            });
        }
        Ok(addrs)
    }
}

impl ResolveDns for HostResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move { self.lookup(name).await.map_err(ResolveDnsError::new) })
    }
}

/// glibc's configuration without resolv.conf: one name server on 127.0.0.1,
/// default options (hosts file first).
fn localhost_builder() -> hickory_resolver::ResolverBuilder<TokioRuntimeProvider> {
    let localhost = NameServerConfig::udp_and_tcp(IpAddr::V4(Ipv4Addr::LOCALHOST));
    TokioResolver::builder_with_config(
        ResolverConfig::from_parts(None, vec![], vec![localhost]),
        TokioRuntimeProvider::default(),
    )
    .with_options(ResolverOpts::default())
}

/// Why `AWS_LAMBDA_RUNTIME_API` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    #[error("AWS_LAMBDA_RUNTIME_API={0:?} is not `host:port`")]
    Malformed(String),
    #[error("cannot resolve the Lambda Runtime API host of AWS_LAMBDA_RUNTIME_API={value:?}")]
    Lookup {
        value: String,
        #[source]
        source: LookupError,
    },
}

/// `host:port` of `AWS_LAMBDA_RUNTIME_API` split, with the host unbracketed.
fn split_host_port(value: &str) -> Option<(&str, u16)> {
    let (host, port) = value.trim().rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

/// The Runtime API address with its host resolved: `None` when it already is
/// an IP address (as Lambda always gives it), else `ip:port` of the first
/// address found.
pub async fn resolve_runtime_api(
    resolver: &HostResolver,
    value: &str,
) -> Result<Option<String>, RuntimeApiError> {
    let (host, port) =
        split_host_port(value).ok_or_else(|| RuntimeApiError::Malformed(value.to_string()))?;
    if host.parse::<IpAddr>().is_ok() {
        return Ok(None);
    }
    let addrs = resolver
        .lookup(host)
        .await
        .map_err(|source| RuntimeApiError::Lookup {
            value: value.to_string(),
            source,
        })?;
    // `lookup` never returns an empty list.
    Ok(addrs
        .first()
        .map(|ip| SocketAddr::new(*ip, port).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_api_values_split_into_host_and_port() {
        assert_eq!(split_host_port("127.0.0.1:9001"), Some(("127.0.0.1", 9001)));
        assert_eq!(split_host_port("[::1]:9001"), Some(("::1", 9001)));
        assert_eq!(
            split_host_port("runtime.test:80"),
            Some(("runtime.test", 80))
        );
        assert_eq!(split_host_port("runtime.test"), None);
        assert_eq!(split_host_port(":9001"), None);
        assert_eq!(split_host_port("host:port"), None);
    }

    #[tokio::test]
    async fn ip_runtime_api_values_are_kept_and_bad_ones_refused() {
        let resolver = HostResolver::from_system();
        for ip in ["127.0.0.1:9001", "[::1]:9001", "169.254.100.1:9001"] {
            assert_eq!(
                resolve_runtime_api(&resolver, ip).await.unwrap(),
                None,
                "{ip}"
            );
        }
        let err = resolve_runtime_api(&resolver, "no-port").await.unwrap_err();
        assert!(matches!(err, RuntimeApiError::Malformed(_)), "{err}");
    }
}
