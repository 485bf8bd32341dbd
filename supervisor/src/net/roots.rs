//! The certificates TLS connections trust: Mozilla's roots, bundled in the
//! binary (a busybox or distroless image has no `/etc/ssl`), plus whatever
//! the image's own store holds (`SSL_CERT_FILE`/`SSL_CERT_DIR`, else the
//! usual distribution paths), so a private CA installed in the image (a
//! MinIO endpoint behind it) is trusted as before. Certificates of the image
//! that rustls cannot use as a trust anchor are skipped here, because the
//! SDK's client refuses (panics on) a trust store holding one.

use aws_smithy_http_client::tls::TrustStore;
use base64::Engine as _;
use rustls::pki_types::CertificateDer;

/// The trust store for the AWS clients: bundled roots first, then the image's.
pub fn trust_store() -> TrustStore {
    let native = rustls_native_certs::load_native_certs();
    if !native.errors.is_empty() {
        tracing::debug!(errors = ?native.errors, "some of the image's CA certificates were unreadable");
    }
    let pem = pem_bundle(webpki_root_certs::TLS_SERVER_ROOT_CERTS, &native.certs);
    TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(pem)
}

/// One PEM document with every certificate of `bundled` and each of `image`
/// that is a usable trust anchor.
pub fn pem_bundle(bundled: &[CertificateDer<'_>], image: &[CertificateDer<'_>]) -> Vec<u8> {
    let usable = |cert: &&CertificateDer<'_>| {
        rustls::RootCertStore::empty()
            .add(CertificateDer::from(cert.as_ref()))
            .is_ok()
    };
    let mut pem = Vec::new();
    for cert in bundled.iter().chain(image.iter().filter(usable)) {
        write_pem(&mut pem, cert.as_ref());
    }
    pem
}

fn write_pem(out: &mut Vec<u8>, der: &[u8]) {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
    // PEM lines are 64 characters; base64 output is ASCII, so bytes are chars.
    for line in body.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END CERTIFICATE-----\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject as _;

    fn parsed(pem: &[u8]) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .expect("the bundle is valid PEM")
    }

    #[test]
    fn bundle_holds_every_mozilla_root_when_the_image_has_none() {
        let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(bundled.len() > 100, "only {} bundled roots", bundled.len());
        let certs = parsed(&pem_bundle(bundled, &[]));
        assert_eq!(certs.len(), bundled.len());
        // Byte for byte the same certificates, each a usable trust anchor.
        let mut store = rustls::RootCertStore::empty();
        for (got, want) in certs.iter().zip(bundled) {
            assert_eq!(got.as_ref(), want.as_ref());
            store
                .add(got.clone())
                .expect("a bundled root is a trust anchor");
        }
    }

    #[test]
    fn image_certificates_are_added_and_unusable_ones_skipped() {
        let bundled = &webpki_root_certs::TLS_SERVER_ROOT_CERTS[..2];
        let image_ca = webpki_root_certs::TLS_SERVER_ROOT_CERTS[5].clone();
        let garbage = CertificateDer::from(b"not a certificate".to_vec());
        let certs = parsed(&pem_bundle(bundled, &[garbage, image_ca.clone()]));
        assert_eq!(certs.len(), 3, "two bundled + the image's usable one");
        assert_eq!(certs[2].as_ref(), image_ca.as_ref());
    }
}
