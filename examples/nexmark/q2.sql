-- q2, selection: the bids on every 123rd auction (the standard form; RisingWave's
-- variant lists five auction ids instead).
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;
