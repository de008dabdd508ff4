"""Development mode only: a sample mailbox and calendar served like Google's APIs, a signing key only
development mode trusts, and the preview page that shows the add-on's cards as the sidebar would."""
