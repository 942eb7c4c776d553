//! Testing a service that uses `shiheng` against the sandbox, with data the
//! test chooses: the pattern docs/testing.md describes.
//!
//! The "service" here is a report of a chain's WeCom employees: how many can
//! contact customers, and who has left. Its tests start a sandbox with
//! their own employees (Rust values, or the JSON files of
//! tests/fixtures/sandbox-data), point the real signed client at it, and
//! assert on what the service computes; one more shows the service's
//! error handling with every request failing.
//!
//! ```sh
//! cargo test --example service_test   # the tests below
//! cargo run --example service_test    # the report on the fixture files
//! ```

use futures::TryStreamExt;
use shiheng::lenient::EmployeeStatus;
use shiheng::{Client, Error};

/// What the service computes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ContactReport {
    /// Employees listed.
    pub employees: usize,
    /// Those with customer-contact permission (`followUserFlag`, sent as a
    /// boolean or as 0/1: the client decodes both to a `bool`).
    pub can_contact: usize,
    /// Names of those who left the company (status 5).
    pub left: Vec<String>,
}

/// The service under test: every employee, through the client's stream.
pub async fn contact_report(client: &Client) -> Result<ContactReport, Error> {
    let employees: Vec<_> = client.list_wecom_employees().stream().try_collect().await?;
    let mut report = ContactReport {
        employees: employees.len(),
        ..ContactReport::default()
    };
    for employee in employees {
        if employee.follow_user_flag == Some(true) {
            report.can_contact += 1;
        }
        if employee.status == Some(EmployeeStatus::Left) {
            report.left.push(employee.name.unwrap_or_default());
        }
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use shiheng_sandbox::{Sandbox, SandboxConfig};
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sandbox-data");
    let sandbox = Sandbox::start(SandboxConfig::default().with_data_dir(data)?).await?;
    let client = Client::new(shiheng::Config::new(
        sandbox.url(),
        "demo-app",
        "demo-secret",
    ))?;
    println!("{:?}", contact_report(&client).await?);
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shiheng::{Client, Config, ErrorKind, RetryPolicy};
    use shiheng_sandbox::{FaultKinds, Sandbox, SandboxConfig};

    use super::*;

    /// A client of `sandbox`, with the sandbox's default credentials.
    fn client_of(sandbox: &Sandbox) -> Client {
        Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret")).expect("a client")
    }

    #[tokio::test]
    async fn counts_contact_permission_in_both_wire_forms() {
        // The items the test needs, in the platform's wire forms; checked
        // against the spec when the sandbox starts.
        let employees = vec![
            json!({"id": 1, "name": "王芳", "followUserFlag": true, "status": 1}),
            json!({"id": 2, "name": "李强", "followUserFlag": 1, "status": 1}),
            json!({"id": 3, "name": "张伟", "followUserFlag": 0, "status": 5}),
            json!({"id": 4, "name": "赵敏", "followUserFlag": null, "status": 6}),
        ];
        let config = SandboxConfig::default().with_items("listWecomEmployees", employees);
        let sandbox = Sandbox::start(config).await.expect("the sandbox starts");

        let report = contact_report(&client_of(&sandbox))
            .await
            .expect("a report");

        assert_eq!(
            report,
            ContactReport {
                employees: 4,
                can_contact: 2,
                left: vec!["张伟".to_string()],
            }
        );
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn reads_the_fixture_files() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sandbox-data");
        let config = SandboxConfig::default()
            .with_data_dir(data)
            .expect("the files read");
        let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
        let report = contact_report(&client_of(&sandbox))
            .await
            .expect("a report");
        assert_eq!((report.employees, report.can_contact), (3, 2));
        assert_eq!(report.left, ["张伟"]);
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn reports_the_platform_failing() {
        let sandbox = Sandbox::start({
            let mut config = SandboxConfig::default();
            config.fail_rate = 1.0;
            config.faults = FaultKinds::GATEWAY;
            config
        })
        .await
        .expect("the sandbox starts");
        let client = Client::new(
            Config::new(sandbox.url(), "demo-app", "demo-secret")
                .with_retry(RetryPolicy::disabled()),
        )
        .expect("a client");
        let error = contact_report(&client)
            .await
            .expect_err("every request fails");
        assert_eq!((error.kind(), error.status()), (ErrorKind::Http, Some(503)));
        sandbox.shutdown().await;
    }
}
