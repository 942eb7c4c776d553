//! Lists every employee, customer and group chat of a platform, page after
//! page, through the signed client. Without settings it starts an in-process
//! sandbox on a loopback port and lists that; with SHIHENG_BASE_URL,
//! SHIHENG_APP_ID and SHIHENG_APP_SECRET set it lists the platform they name.
//!
//! ```sh
//! cargo run --example list_all
//! ```

use futures::TryStreamExt;
use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, sandbox) = match Config::from_env() {
        Ok(config) => (Client::new(config)?, None),
        Err(_) => {
            let sandbox = Sandbox::start(SandboxConfig::default()).await?;
            println!(
                "no SHIHENG_* settings: listing a local sandbox at {}",
                sandbox.url()
            );
            let config = Config::new(sandbox.url(), "demo-app", "demo-secret");
            (Client::new(config)?, Some(sandbox))
        }
    };

    let mut employees = client.list_wecom_employees().concurrency(4).stream();
    let mut count = 0;
    while let Some(employee) = employees.try_next().await? {
        if count < 3 {
            println!(
                "employee {:?} {:?} status {:?}",
                employee.id, employee.name, employee.status
            );
        }
        count += 1;
    }
    let summary = employees.summary();
    println!(
        "{count} employees in {} pages ({} duplicates dropped; totals disagree: {})",
        summary.pages,
        summary.duplicates_dropped,
        summary.totals_disagree()
    );

    let customers: Vec<_> = client.list_wecom_customers().stream().try_collect().await?;
    let chats: Vec<_> = client
        .list_wecom_group_chats()
        .stream()
        .try_collect()
        .await?;
    println!("{} customers, {} group chats", customers.len(), chats.len());

    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}
