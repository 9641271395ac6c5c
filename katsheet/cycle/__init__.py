"""The monthly cycle around the engines: wallets, payout and mint files, seals, settlement."""
