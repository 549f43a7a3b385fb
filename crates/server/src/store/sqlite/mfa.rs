//! Second factors on SQLite: the TOTP columns of `users`, `recovery_codes`,
//! `sessions.reauth_at` and `practices.mfa_required`. Writes that touch more than one row
//! take the write lock first (`BEGIN IMMEDIATE`).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, parse_role, parse_uuid};
use crate::store::mfa::{MfaStore, MfaUser};
use crate::store::{PracticeId, StoreError, StoreResult, UserId, UserRecord};

/// Replaces the member's recovery codes inside `tx`.
fn put_recovery_codes(
    tx: &rusqlite::Transaction<'_>,
    user: &str,
    hashes: &[String],
) -> StoreResult<()> {
    tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user])?;
    let mut insert =
        tx.prepare_cached("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?1, ?2)")?;
    for h in hashes {
        insert.execute(params![user, h])?;
    }
    Ok(())
}

#[async_trait]
impl MfaStore for SqliteStore {
    async fn mfa_user(&self, user: UserId) -> StoreResult<Option<MfaUser>> {
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT u.id, u.practice_id, u.email, u.display_name, u.password_hash, u.disabled,
                        u.role, u.totp_secret, u.totp_pending, u.totp_last_step, p.mfa_required
                 FROM users u JOIN practices p ON p.id = u.practice_id
                 WHERE u.id = ?1",
                [user.0.to_string()],
                |r| {
                    Ok(MfaUser {
                        user: UserRecord {
                            id: UserId(parse_uuid(&r.get::<_, String>(0)?)?),
                            practice_id: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
                            email: r.get(2)?,
                            display_name: r.get(3)?,
                            password_hash: r.get(4)?,
                            disabled: r.get(5)?,
                            role: parse_role(&r.get::<_, String>(6)?)?,
                        },
                        totp_secret: r.get(7)?,
                        totp_pending: r.get(8)?,
                        totp_last_step: r.get(9)?,
                        practice_mfa_required: r.get(10)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn set_totp_pending(&self, user: UserId, sealed: Option<&str>) -> StoreResult<()> {
        let sealed = sealed.map(str::to_owned);
        self.with(move |c| {
            let n = c.execute(
                "UPDATE users SET totp_pending = ?2 WHERE id = ?1",
                params![user.0.to_string(), sealed],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        pending: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool> {
        let pending = pending.to_owned();
        let hashes = recovery_hashes.to_vec();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = user.0.to_string();
            let n = tx.execute(
                "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL,
                   totp_last_step = ?3
                 WHERE id = ?1 AND totp_pending = ?2",
                params![id, pending, step],
            )?;
            if n == 0 {
                return Ok(false);
            }
            put_recovery_codes(&tx, &id, &hashes)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        self.with(move |c| {
            let n = c.execute(
                "UPDATE users SET totp_last_step = ?2
                 WHERE id = ?1 AND totp_secret IS NOT NULL AND totp_last_step < ?2",
                params![user.0.to_string(), step],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn remove_totp(&self, user: UserId) -> StoreResult<bool> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = user.0.to_string();
            let had: bool = tx
                .query_row(
                    "SELECT totp_secret IS NOT NULL FROM users WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            tx.execute(
                "UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = ?1",
                [&id],
            )?;
            tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&id])?;
            tx.commit()?;
            Ok(had)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery_hashes: &[String],
    ) -> StoreResult<()> {
        let hashes = recovery_hashes.to_vec();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            put_recovery_codes(&tx, &user.0.to_string(), &hashes)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn use_recovery_code(&self, user: UserId, hash: &str, now: i64) -> StoreResult<bool> {
        let hash = hash.to_owned();
        self.with(move |c| {
            let n = c.execute(
                "UPDATE recovery_codes SET used_at = ?3
                 WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
                params![user.0.to_string(), hash, now],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64> {
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                [user.0.to_string()],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn set_reauth_at(&self, user: UserId, session_id: Uuid, now: i64) -> StoreResult<bool> {
        self.with(move |c| {
            let n = c.execute(
                "UPDATE sessions SET reauth_at = ?3
                 WHERE public_id = ?2 AND user_id = ?1 AND revoked = 0",
                params![user.0.to_string(), session_id.to_string(), now],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn mfa_required(&self, practice: PracticeId) -> StoreResult<bool> {
        self.with(move |c| {
            c.query_row(
                "SELECT mfa_required FROM practices WHERE id = ?1",
                [practice.0.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn set_mfa_required(&self, practice: PracticeId, required: bool) -> StoreResult<()> {
        self.with(move |c| {
            let n = c.execute(
                "UPDATE practices SET mfa_required = ?2 WHERE id = ?1",
                params![practice.0.to_string(), required],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }
}
