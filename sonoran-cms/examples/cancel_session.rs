//! Cancels a session: the README's quick start as a program you can run.
//!
//! ```sh
//! SONORAN_CMS_API_KEY=... cargo run -p sonoran-cms --example cancel_session -- \
//!     --server-id 1 --acc-id 8d2f6e2a-9c1b-4c55-a0f4-3f0c2b8e7d11
//! ```

use std::process::ExitCode;

use clap::Parser;
use sonoran_cms::types::CancelSessionRequest;
use sonoran_cms::uuid::Uuid;
use sonoran_cms::{Client, PRODUCTION_BASE_URL};

/// Cancel an active Sonoran CMS session. The API key is read from SONORAN_CMS_API_KEY.
#[derive(Parser)]
struct Arguments {
    /// Where the API is.
    #[arg(long, default_value = PRODUCTION_BASE_URL)]
    base_url: String,
    /// The id of the community server the session runs on (1 or more).
    #[arg(long)]
    server_id: u64,
    /// The UUID of the account whose session to cancel.
    #[arg(long)]
    acc_id: Uuid,
}

#[tokio::main]
async fn main() -> ExitCode {
    let arguments = Arguments::parse();
    match cancel(arguments).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn cancel(arguments: Arguments) -> Result<String, String> {
    let api_key = std::env::var("SONORAN_CMS_API_KEY")
        .map_err(|_| "set SONORAN_CMS_API_KEY to your API key".to_owned())?;
    let client = Client::builder(api_key)
        .base_url(arguments.base_url)
        .build()
        .map_err(|error| error.to_string())?;
    let response = client
        .cancel_session()
        .body(
            CancelSessionRequest::builder()
                .server_id(arguments.server_id)
                .acc_id(arguments.acc_id),
        )
        .send()
        .await
        .map_err(|error| error.to_string())?;
    Ok(format!(
        "cancelled the session of account {} on server {} (HTTP {})",
        arguments.acc_id,
        arguments.server_id,
        response.status()
    ))
}
