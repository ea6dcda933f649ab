//! A typed yes/no for `verify_whitelist`: the API says "not whitelisted" as an
//! error answer, which [`VerifyWhitelist::verdict`](crate::builder::VerifyWhitelist::verdict)
//! reads as [`WhitelistVerdict::Denied`], while every other error stays an error.
//!
//! What a denial looks like, from the sources: the v2 docs answer it with a
//! problem (`application/problem+json`, an error status, the code in `detail`);
//! v1 answered 404 `NOT ALLOWED ON WHITELIST`; an envelope with
//! `"success": false` and the code as text is read the same way (the client
//! reports it as [`Error::Api`] whatever its status, 200 included). The codes
//! are those the official FiveM resource treats as a denial rather than a
//! backend failure (sonorancms_core util/sonoran.js, checkCMSWhitelist):
//! [`DENIAL_CODES`].

use crate::Error;

/// The API's texts that mean "this account may not join": the server's
/// whitelist does not hold it, it is blocked, or the API id names no account.
/// Compared without regard to case, anywhere in the error's message.
pub const DENIAL_CODES: &[&str] = &[
    "NOT ALLOWED ON WHITELIST",
    "BLOCKED FOR WHITELIST",
    "UNKNOWN_ACC_API_ID",
];

/// What `verify_whitelist` decided for one account on one game server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhitelistVerdict {
    /// The account may join.
    Allowed {
        /// The API's text: the account's name, or `BYPASSED WHITELIST - <name>`
        /// when it bypasses the whitelist.
        name: String,
    },
    /// The account may not join.
    Denied {
        /// The denial code the API's answer carries, written as in
        /// [`DENIAL_CODES`] (e.g. `NOT ALLOWED ON WHITELIST`) whatever its case
        /// in the answer.
        reason: String,
    },
}

impl WhitelistVerdict {
    /// Whether the account may join.
    pub fn is_allowed(&self) -> bool {
        matches!(self, WhitelistVerdict::Allowed { .. })
    }
}

impl crate::builder::VerifyWhitelist<'_> {
    /// Sends the check and says yes or no: [`WhitelistVerdict::Allowed`] with the
    /// API's text, or [`WhitelistVerdict::Denied`] when the API answers with
    /// one of the [`DENIAL_CODES`].
    ///
    /// # Errors
    ///
    /// Every other failure, as `.await` gives it: a server id the API does not
    /// know (`INVALID_SERVER_ID`), a server whose whitelist is not configured
    /// (`SERVER_CONFIG_ERROR`), an outage, a missing identity (refused before
    /// sending). The official resource falls back to a local list on these.
    ///
    /// ```no_run
    /// use sonoran_cms::types::{AccountIdentity, VerifyWhitelistRequest};
    ///
    /// # async fn join(client: &sonoran_cms::Client) -> sonoran_cms::Result<()> {
    /// let verdict = client
    ///     .verify_whitelist()
    ///     .server_id(1)
    ///     .body(VerifyWhitelistRequest::builder().identity(AccountIdentity::Discord("123456789012345678".into())))
    ///     .verdict()
    ///     .await?;
    /// if !verdict.is_allowed() {
    ///     println!("refused: {verdict:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn verdict(self) -> crate::Result<WhitelistVerdict> {
        match self.send().await {
            Ok(answer) => Ok(WhitelistVerdict::Allowed {
                name: answer.into_inner().data,
            }),
            Err(error) => match denial_reason(&error) {
                Some(reason) => Ok(WhitelistVerdict::Denied { reason }),
                None => Err(error),
            },
        }
    }
}

/// The denial code an error of `verify_whitelist` carries, if it is a denial
/// (one of the [`DENIAL_CODES`]): in the problem's `detail`, `message`,
/// `reason` or `title`, or in the body's `data` text (a `"success": false`
/// envelope). `None` for every other error: an outage, an unknown server.
pub fn denial_reason(error: &Error) -> Option<String> {
    let Error::Api(api) = error else {
        return None;
    };
    let problem = &api.problem;
    let data = serde_json::from_slice::<serde_json::Value>(&api.body)
        .ok()
        .and_then(|body| {
            body.get("data")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        });
    let texts = [
        problem.detail.clone(),
        problem.message.clone(),
        problem.reason.clone(),
        problem.title.clone(),
        data,
    ];
    texts.into_iter().flatten().find_map(|text| {
        let upper = text.to_uppercase();
        DENIAL_CODES
            .iter()
            .find(|code| upper.contains(*code))
            .map(|code| (*code).to_owned())
    })
}
