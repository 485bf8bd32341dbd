//! The certificates TLS connections trust: Mozilla's roots, bundled in the
//! binary (a busybox or distroless image has no `/etc/ssl`), plus whatever
//! the image's own store holds (`SSL_CERT_FILE`/`SSL_CERT_DIR`, else the
//! usual distribution paths), so a private CA installed in the image (a
//! MinIO endpoint behind it) is trusted as before. Certificates of the image
//! that rustls cannot use as a trust anchor are skipped here, because the
//! SDK's client refuses (panics on) a trust store holding one.

use std::collections::BTreeSet;

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
/// that is a usable trust anchor and not bundled already.
///
/// Memory matters here (the supervisor's peak RSS is part of what a function
/// pays for): an image with a CA store (Debian, Amazon Linux) holds nearly
/// the same Mozilla roots that are bundled, and the SDK copies this document
/// and parses it into certificates for each connector it builds, so a
/// duplicated set doubled each of those copies. The document is also
/// allocated once at its final size rather than grown by doubling.
pub fn pem_bundle(bundled: &[CertificateDer<'_>], image: &[CertificateDer<'_>]) -> Vec<u8> {
    let mut certs: Vec<&[u8]> = bundled.iter().map(|c| c.as_ref()).collect();
    let mut taken: BTreeSet<&[u8]> = certs.iter().copied().collect();
    for cert in image {
        let der = cert.as_ref();
        let usable = rustls::RootCertStore::empty()
            .add(CertificateDer::from(der))
            .is_ok();
        if usable && taken.insert(der) {
            certs.push(der);
        }
    }
    let mut pem = Vec::with_capacity(certs.iter().map(|der| pem_len(der.len())).sum());
    let mut body = String::new();
    for der in certs {
        write_pem(&mut pem, &mut body, der);
    }
    pem
}

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----\n";
const PEM_END: &[u8] = b"-----END CERTIFICATE-----\n";

/// The bytes [`write_pem`] writes for a DER certificate of `der_len` bytes.
fn pem_len(der_len: usize) -> usize {
    let body = der_len.div_ceil(3) * 4;
    PEM_BEGIN.len() + body + body.div_ceil(64) + PEM_END.len()
}

/// Appends `der` as one PEM block; `body` is scratch space reused across calls.
fn write_pem(out: &mut Vec<u8>, body: &mut String, der: &[u8]) {
    body.clear();
    base64::engine::general_purpose::STANDARD.encode_string(der, body);
    out.extend_from_slice(PEM_BEGIN);
    // PEM lines are 64 characters; base64 output is ASCII, so bytes are chars.
    for line in body.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(PEM_END);
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

    #[test]
    fn image_certificates_already_bundled_or_repeated_are_added_once() {
        let all = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        let (bundled, extra) = (&all[..10], all[20].clone());
        // An image store holding the bundled set again, and one CA twice.
        let mut image: Vec<CertificateDer<'_>> = bundled.to_vec();
        image.push(extra.clone());
        image.push(extra.clone());
        let pem = pem_bundle(bundled, &image);
        let certs = parsed(&pem);
        assert_eq!(certs.len(), 11, "ten bundled + the image's own CA once");
        assert_eq!(certs[10].as_ref(), extra.as_ref());
        // The document was sized exactly: no slack left from growing.
        assert_eq!(pem.capacity(), pem.len());
    }
}
