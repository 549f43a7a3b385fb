//! Second factors on PostgreSQL: the TOTP columns of `users`, `recovery_codes`,
//! `sessions.reauth_at` and `practices.mfa_required`. Confirming and removing a factor
//! hold the member's row lock until their transaction commits.

use async_trait::async_trait;
use uuid::Uuid;

use super::{PostgresStore, parse_role};
use crate::store::mfa::{MfaStore, MfaUser};
use crate::store::{PracticeId, StoreError, StoreResult, UserId, UserRecord};

/// Replaces the member's recovery codes inside `tx`.
async fn put_recovery_codes(
    tx: &deadpool_postgres::Transaction<'_>,
    user: UserId,
    hashes: &[String],
) -> StoreResult<()> {
    tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", &[&user.0])
        .await?;
    let insert = tx
        .prepare_cached("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
        .await?;
    for h in hashes {
        tx.execute(&insert, &[&user.0, h]).await?;
    }
    Ok(())
}

#[async_trait]
impl MfaStore for PostgresStore {
    async fn mfa_user(&self, user: UserId) -> StoreResult<Option<MfaUser>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT u.id, u.practice_id, u.email, u.display_name, u.password_hash, u.disabled,
                        u.role, u.totp_secret, u.totp_pending, u.totp_last_step, p.mfa_required
                 FROM users u JOIN practices p ON p.id = u.practice_id
                 WHERE u.id = $1",
            )
            .await?;
        let Some(r) = client.query_opt(&stmt, &[&user.0]).await? else {
            return Ok(None);
        };
        Ok(Some(MfaUser {
            user: UserRecord {
                id: UserId(r.try_get(0)?),
                practice_id: PracticeId(r.try_get(1)?),
                email: r.try_get(2)?,
                display_name: r.try_get(3)?,
                password_hash: r.try_get(4)?,
                disabled: r.try_get(5)?,
                role: parse_role(r.try_get(6)?)?,
            },
            totp_secret: r.try_get(7)?,
            totp_pending: r.try_get(8)?,
            totp_last_step: r.try_get(9)?,
            practice_mfa_required: r.try_get(10)?,
        }))
    }

    async fn set_totp_pending(&self, user: UserId, sealed: Option<&str>) -> StoreResult<()> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE users SET totp_pending = $2 WHERE id = $1",
                &[&user.0, &sealed],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        pending: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL,
                   totp_last_step = $3
                 WHERE id = $1 AND totp_pending = $2",
                &[&user.0, &pending, &step],
            )
            .await?;
        if n == 0 {
            return Ok(false);
        }
        put_recovery_codes(&tx, user, recovery_hashes).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE users SET totp_last_step = $2
                 WHERE id = $1 AND totp_secret IS NOT NULL AND totp_last_step < $2",
            )
            .await?;
        Ok(client.execute(&stmt, &[&user.0, &step]).await? > 0)
    }

    async fn remove_totp(&self, user: UserId) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let had: bool = tx
            .query_opt(
                "SELECT totp_secret IS NOT NULL FROM users WHERE id = $1 FOR UPDATE",
                &[&user.0],
            )
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get(0)?;
        tx.execute(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = $1",
            &[&user.0],
        )
        .await?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", &[&user.0])
            .await?;
        tx.commit().await?;
        Ok(had)
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery_hashes: &[String],
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put_recovery_codes(&tx, user, recovery_hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_recovery_code(&self, user: UserId, hash: &str, now: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE recovery_codes SET used_at = $3
                 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                &[&user.0, &hash, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                &[&user.0],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn set_reauth_at(&self, user: UserId, session_id: Uuid, now: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE sessions SET reauth_at = $3
                 WHERE public_id = $2 AND user_id = $1 AND NOT revoked",
                &[&user.0, &session_id.to_string(), &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn mfa_required(&self, practice: PracticeId) -> StoreResult<bool> {
        let client = self.client().await?;
        client
            .query_opt(
                "SELECT mfa_required FROM practices WHERE id = $1",
                &[&practice.0],
            )
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn set_mfa_required(&self, practice: PracticeId, required: bool) -> StoreResult<()> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE practices SET mfa_required = $2 WHERE id = $1",
                &[&practice.0, &required],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
