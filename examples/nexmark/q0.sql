-- q0, passthrough: every bid as it is.
SELECT auction, bidder, price, date_time FROM bid;
