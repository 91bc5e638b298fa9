//! `pipewise rates`: the exchange rates reports convert amounts with.

use pipewise_core::exchange::ExchangeRate;

use crate::cli::RatesCommand;

pub async fn run(command: RatesCommand) -> anyhow::Result<()> {
    match command {
        RatesCommand::Set {
            target,
            currency,
            from,
            rate,
        } => {
            let (store, workspace) = crate::process::open(&target).await?;
            let corporate = workspace.corporate_currency;
            if currency == corporate {
                anyhow::bail!("--currency: {currency} is the corporate currency; its rate is 1");
            }
            let rate = ExchangeRate {
                currency,
                valid_from: from,
                rate,
            };
            store.set_exchange_rates(workspace.id, &[rate]).await?;
            println!("1 {currency} = {} {corporate} from {from} on.", rate.rate);
            Ok(())
        }
        RatesCommand::List { target } => {
            let (store, workspace) = crate::process::open(&target).await?;
            let rates = store.exchange_rates(workspace.id).await?;
            if rates.is_empty() {
                println!(
                    "No exchange rates: only amounts in {} are converted.",
                    workspace.corporate_currency
                );
            }
            for r in rates {
                println!(
                    "{} from {}: {} {}",
                    r.currency, r.valid_from, r.rate, workspace.corporate_currency
                );
            }
            Ok(())
        }
    }
}
