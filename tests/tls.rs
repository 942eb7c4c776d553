//! HTTPS with the crate's chosen rustls provider, against a real local rustls
//! server (tests/tls_server/) using the test CA of tests/fixtures/tls/: the
//! CA trusted through `Config::with_root_certificate` works, by address and by
//! name; without it the handshake is refused; broken roots are configuration
//! errors; with both provider features on, aws-lc-rs is the one in use.

mod common;
mod tls_server;

use common::{APP_ID, SECRET};
use shiheng::{Client, Config, Error, RetryPolicy};
use tls_server::{CA_PEM, Server, server_config};

fn page() -> String {
    common::employee_page(41, 2, Some(1), Some(2)).to_string()
}

/// Every message in `error`'s source chain, joined.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(" / ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

async fn employee_ids(client: &Client) -> Result<Vec<i64>, Error> {
    let page = client
        .list_wecom_employees()
        .page(1)
        .page_size(2)
        .send()
        .await?;
    Ok(page
        .result
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.id)
        .collect())
}

#[tokio::test]
async fn a_client_trusting_the_test_ca_talks_https_by_address_and_by_name() {
    let server = Server::https(server_config(), &page()).await;
    for url in [server.url(), server.localhost_url()] {
        let config = Config::new(&url, APP_ID, SECRET).with_root_certificate(CA_PEM);
        let client = Client::new(config).unwrap();
        assert_eq!(employee_ids(&client).await.unwrap(), [41, 42], "{url}");
    }
    assert_eq!(server.answered(), 2);
    // The signed envelope went through the encrypted connection intact.
    for body in server.bodies() {
        let envelope: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(envelope["appId"], APP_ID);
        assert_eq!(envelope["sign"].as_str().map(str::len), Some(32));
    }
}

#[tokio::test]
async fn without_the_test_ca_the_certificate_is_refused() {
    let server = Server::https(server_config(), &page()).await;
    // No retries: a certificate is refused the same way every time.
    let config = Config::new(server.url(), APP_ID, SECRET).with_retry(RetryPolicy::disabled());
    let client = Client::new(config).unwrap();
    let error = employee_ids(&client).await.unwrap_err();
    let text = chain(&error);
    assert!(
        text.contains("UnknownIssuer") || text.contains("unknown issuer"),
        "{text}"
    );
    assert_eq!(server.answered(), 0);
}

#[test]
fn roots_that_are_not_certificates_are_configuration_errors() {
    let broken_base64 = "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n";
    // Valid PEM and base64, but the bytes are not X.509.
    let not_x509 = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    for (pem, expected) in [
        (
            "not a certificate",
            "root certificate #2 has no PEM CERTIFICATE block",
        ),
        (broken_base64, "root certificate #2 is not valid PEM"),
        (
            not_x509,
            "root certificate #2 is not a usable X.509 certificate",
        ),
    ] {
        let config = Config::new("https://127.0.0.1:9", APP_ID, SECRET)
            .with_root_certificate(CA_PEM)
            .with_root_certificate(pem);
        let error = Client::new(config).unwrap_err();
        assert!(matches!(error, Error::Config { .. }), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

/// aws-lc-rs speaks the hybrid post-quantum key exchange X25519MLKEM768,
/// ring does not: a server that accepts nothing else tells which provider
/// the client really uses when both features are on.
#[cfg(feature = "tls-aws-lc")]
#[tokio::test]
async fn with_both_providers_on_aws_lc_is_the_one_in_use() {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519MLKEM768];
    let server = Server::https(tls_server::server_config_with(provider), &page()).await;
    let config = Config::new(server.url(), APP_ID, SECRET).with_root_certificate(CA_PEM);
    let client = Client::new(config).unwrap();
    assert_eq!(employee_ids(&client).await.unwrap(), [41, 42]);
}

/// The converse: a client on ring cannot join that server, so the test
/// above would fail if the provider choice were ignored.
#[cfg(feature = "tls-aws-lc")]
#[tokio::test]
async fn a_ring_client_cannot_join_a_post_quantum_only_server() {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519MLKEM768];
    let server = Server::https(tls_server::server_config_with(provider), &page()).await;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(CA_PEM.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let ring = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(ring)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let error = http.post(server.url()).body("{}").send().await.unwrap_err();
    let text = chain(&error);
    assert!(text.to_lowercase().contains("handshake"), "{text}");
    assert_eq!(server.answered(), 0);
}

#[tokio::test]
async fn a_refused_certificate_is_not_retried() {
    #[derive(Debug, Default)]
    struct Attempts(std::sync::atomic::AtomicU32);
    impl shiheng::Interceptor for Attempts {
        fn before_send(
            &self,
            _: &shiheng::intercept::Attempt<'_>,
            _: &mut reqwest::header::HeaderMap,
        ) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let server = Server::https(server_config(), &page()).await;
    let attempts = std::sync::Arc::new(Attempts::default());
    // The default policy: connection failures are retried, but a refused
    // certificate is refused again next time.
    let config = Config::new(server.url(), APP_ID, SECRET).with_interceptor(attempts.clone());
    let client = Client::new(config).unwrap();
    let error = employee_ids(&client).await.unwrap_err();
    assert!(
        chain(&error).to_lowercase().contains("unknown"),
        "{}",
        chain(&error)
    );
    assert_eq!(attempts.0.load(std::sync::atomic::Ordering::Relaxed), 1);
}
