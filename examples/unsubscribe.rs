//! One-click unsubscribe, end to end: the link and headers for a
//! recipient, then the "click" (an RFC 8058 one-click POST) and what it
//! recorded.
//!
//! ```text
//! cargo run --example unsubscribe -- [ADDRESS]
//! ```

use std::error::Error;

use optout::address::Region;
use optout::model::ListId;
use optout::store::ListSettings;
use optout::unsubscribe::{
    Click, ONE_CLICK_BODY, UnsubscribeKeys, Unsubscribed, unsubscribe_headers,
};
use optout::{Normalizer, Store};

fn main() -> Result<(), Box<dyn Error>> {
    let input = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Ann.Lee@Example.com".to_owned());
    let normalizer = Normalizer::new(Region::new("US")?);
    let address = normalizer
        .address(&input)
        .map_err(|e| format!("{input:?}: {e}"))?;

    let store = Store::new();
    let newsletter = store.create_list(
        ListSettings::new("Newsletter")
            .confirmation("You will no longer receive the newsletter.")
            .webhook("https://hooks.example.com/optout"),
    )?;
    // In a service the secret comes from configuration, never from code.
    let keys = UnsubscribeKeys::new(1, b"example secret: replace with 32+ random bytes")?;

    let token = keys.sign(&store.unsubscribe_token(&address, newsletter)?);
    let headers = unsubscribe_headers(
        "https://example.com/unsubscribe",
        &token,
        Some("unsubscribe@example.com"),
    )?;
    println!("recipient:              {address}");
    println!("List-Unsubscribe:       {}", headers.list_unsubscribe);
    println!("List-Unsubscribe-Post:  {}", headers.list_unsubscribe_post);

    // A mail scanner fetching the link changes nothing.
    let prefetch = store.unsubscribe(&keys, &token, Click::Get)?;
    println!("\nGET (prefetch):         {prefetch:?}");

    // The mailbox provider's one-click POST.
    match store.unsubscribe(
        &keys,
        &token,
        Click::Post {
            body: ONE_CLICK_BODY,
        },
    )? {
        Unsubscribed::Recorded { reply, event, .. } => {
            println!("POST one-click:         recorded");
            println!("reply:                  {reply}");
            println!("event:                  {event:?}");
            println!(
                "deliver to:             {}",
                event.webhook.as_deref().unwrap_or("-")
            );
        }
        other => println!("POST one-click:         {other:?}"),
    }
    let again = store.unsubscribe(
        &keys,
        &token,
        Click::Post {
            body: ONE_CLICK_BODY,
        },
    )?;
    println!("second click:           {again:?}");
    println!(
        "\nsystem list untouched:  {}",
        !store.contains(ListId::SYSTEM, &optout::model::Scope::Account, &address)
    );
    Ok(())
}
