//! Binding the control plane's socket, with the errors a user can act on.

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Another process holds the port.
    #[error("cannot listen on {addr}: the address is already in use")]
    AddrInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// Listening beyond loopback without a token would let anyone control the process.
    #[error("refusing to listen on {addr} without a token: anyone on the network could control this process")]
    TokenRequired {
        /// The address.
        addr: SocketAddr,
    },
    /// Any other socket error.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the OS said.
        reason: String,
    },
}

/// Binds `addr`, refusing a non-loopback address when no token is set.
pub async fn bind(addr: SocketAddr, token: Option<&str>) -> Result<TcpListener, ServeError> {
    if !addr.ip().is_loopback() && token.is_none_or(str::is_empty) {
        return Err(ServeError::TokenRequired { addr });
    }
    TcpListener::bind(addr).await.map_err(|err| match err.kind() {
        std::io::ErrorKind::AddrInUse => ServeError::AddrInUse { addr },
        _ => ServeError::Bind {
            addr,
            reason: err.to_string(),
        },
    })
}
