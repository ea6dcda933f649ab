//! Resolving an account identity to the account's UUID, which the
//! account-scoped routes need in their path (`/v2/community/accounts/{accountId}/..`)
//! even where their body can name the account by a Discord id or an API id.

use progenitor_client::ClientInfo as _;

use crate::Client;
use crate::types::{AccountIdentity, CommunityAccount};

impl Client {
    /// The UUID of the account `identity` names, for the operations whose path
    /// takes `accountId` (`clock_account`, `get_account`, `set_account_ranks`,
    /// the disciplinary records, ...): their bodies may name the account by
    /// any identity, but their paths need its UUID. This is the lookup the
    /// official FiveM resource makes: one `search_accounts` call, through the
    /// client's rate limiter and retries; an `AccountIdentity::AccId` is
    /// returned as it is, without a call.
    ///
    /// The account must be named exactly by `identity` (its Discord id, an
    /// active API id, its unique id, or its name without regard to case), and
    /// be the only one so named: `Ok(None)` when no account is, or when several
    /// are. A search that matches loosely never picks an account for you.
    ///
    /// Each call costs a `search_accounts` call (and its rate-limit slot)
    /// unless the client keeps what it finds:
    /// [`ClientBuilder::cache_account_uuids`](crate::ClientBuilder::cache_account_uuids).
    ///
    /// # Errors
    ///
    /// Any error of `search_accounts`.
    ///
    /// ```no_run
    /// use sonoran_cms::types::AccountIdentity;
    ///
    /// # async fn clock(client: &sonoran_cms::Client) -> sonoran_cms::Result<()> {
    /// let identity = AccountIdentity::Discord("123456789012345678".into());
    /// if let Some(account_id) = client.account_uuid(identity).await? {
    ///     let account = client.get_account().account_id(account_id).await?;
    ///     println!("{:?}", account.into_inner().data);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn account_uuid(
        &self,
        identity: AccountIdentity,
    ) -> crate::Result<Option<uuid::Uuid>> {
        if let AccountIdentity::AccId(account_id) = identity {
            return Ok(Some(account_id));
        }
        let cache = self.inner().settings.account_uuids.clone();
        let key = cache_key(&identity);
        if let Some(account_id) = cache.as_ref().and_then(|cache| cache.get(&key)) {
            return Ok(Some(account_id));
        }
        let found = self
            .search_accounts()
            .identity(identity.clone())
            .await?
            .into_inner()
            .data
            .into_vec();
        let exact: Vec<&CommunityAccount> = found
            .iter()
            .filter(|account| names(&identity, account))
            .collect();
        let account_id = match exact.as_slice() {
            [only] => Some(only.acc_id),
            _ => None,
        };
        if let (Some(cache), Some(account_id)) = (cache, account_id) {
            cache.keep(key, account_id);
        }
        Ok(account_id)
    }
}

/// What an identity is kept under: its form and its value, a name in lower
/// case (names match without regard to case).
fn cache_key(identity: &AccountIdentity) -> String {
    match identity {
        AccountIdentity::AccId(account_id) => format!("accId:{account_id}"),
        AccountIdentity::ApiId(api_id) => format!("apiId:{api_id}"),
        AccountIdentity::Username(name) => format!("username:{}", name.to_lowercase()),
        AccountIdentity::Discord(discord) => format!("discord:{discord}"),
        AccountIdentity::UniqueId(unique_id) => format!("uniqueId:{unique_id}"),
    }
}

/// Whether `identity` names `account` exactly.
fn names(identity: &AccountIdentity, account: &CommunityAccount) -> bool {
    match identity {
        AccountIdentity::AccId(account_id) => account.acc_id == *account_id,
        AccountIdentity::Discord(discord) => account.discord_id.as_ref() == Some(discord),
        AccountIdentity::UniqueId(unique_id) => account.unique_id == Some(*unique_id),
        AccountIdentity::ApiId(api_id) => account
            .active_api_ids
            .as_ref()
            .is_some_and(|ids| ids.contains(api_id)),
        AccountIdentity::Username(name) => account
            .acc_name
            .as_ref()
            .is_some_and(|known| known.eq_ignore_ascii_case(name)),
    }
}
