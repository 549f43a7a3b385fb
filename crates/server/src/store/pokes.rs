//! Pokes: "this practice's change feed moved". The store sends one after each committed
//! write that took a sequence number; `/v1/sync/events` (see [`crate::events`]) turns them
//! into server-sent events, and the desktop pulls.
//!
//! A poke carries no record, no sequence number and nothing of any content: only which
//! practice to look at. Spurious pokes are harmless (a pull that finds nothing); a missing
//! one is not, so every path that may have lost some — a lagging receiver, a dropped
//! database listener — turns into [`Poke::All`].
//!
//! Invariant: a poke is sent only after the write it announces has committed, so the pull
//! it causes sees the write.

use tokio::sync::broadcast;

use super::PracticeId;

/// How many pokes a slow subscriber may fall behind before it is told [`Poke::All`].
const CAPACITY: usize = 1024;

/// What moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poke {
    /// This practice's feed has new changes.
    Practice(PracticeId),
    /// Any practice's may have: pokes may have been missed.
    All,
}

impl Poke {
    /// Whether a subscriber of `practice` should pull.
    pub fn concerns(self, practice: PracticeId) -> bool {
        match self {
            Poke::Practice(p) => p == practice,
            Poke::All => true,
        }
    }
}

/// The sending side, one per store (and so one per server process).
#[derive(Debug, Clone)]
pub struct Pokes {
    tx: broadcast::Sender<Poke>,
}

impl Default for Pokes {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Pokes {
    /// Tells every subscriber; nobody listening is not an error.
    pub fn send(&self, poke: Poke) {
        let _ = self.tx.send(poke);
    }

    /// A new subscriber, seeing pokes sent from now on.
    pub fn subscribe(&self) -> Subscriber {
        Subscriber {
            rx: self.tx.subscribe(),
        }
    }
}

/// One live stream's view of the pokes.
#[derive(Debug)]
pub struct Subscriber {
    rx: broadcast::Receiver<Poke>,
}

impl Subscriber {
    /// Waits for the next poke that concerns `practice`, and takes every one already
    /// waiting with it (one pull answers them all). `None` once the store is gone.
    pub async fn next_for(&mut self, practice: PracticeId) -> Option<()> {
        loop {
            match self.rx.recv().await {
                Ok(p) if p.concerns(practice) => break,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
        loop {
            match self.rx.try_recv() {
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => return Some(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[tokio::test]
    async fn a_subscriber_sees_its_practice_and_everyone_pokes_only() {
        let pokes = Pokes::default();
        let mine = PracticeId(Uuid::new_v4());
        let other = PracticeId(Uuid::new_v4());
        let mut sub = pokes.subscribe();
        pokes.send(Poke::Practice(other));
        pokes.send(Poke::Practice(mine));
        pokes.send(Poke::Practice(mine));
        assert_eq!(sub.next_for(mine).await, Some(()));
        // Both of `mine`'s pokes were answered by one wake-up.
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), sub.next_for(mine)).await;
        assert!(waited.is_err(), "no second wake-up for pokes already taken");
        pokes.send(Poke::Practice(other));
        pokes.send(Poke::All);
        assert_eq!(sub.next_for(mine).await, Some(()));
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_woken_not_lost() {
        let pokes = Pokes::default();
        let mine = PracticeId(Uuid::new_v4());
        let other = PracticeId(Uuid::new_v4());
        let mut sub = pokes.subscribe();
        for _ in 0..(CAPACITY * 2) {
            pokes.send(Poke::Practice(other));
        }
        assert_eq!(sub.next_for(mine).await, Some(()));
    }

    #[tokio::test]
    async fn the_end_of_the_store_ends_the_subscription() {
        let pokes = Pokes::default();
        let mut sub = pokes.subscribe();
        drop(pokes);
        assert_eq!(sub.next_for(PracticeId(Uuid::new_v4())).await, None);
    }
}
