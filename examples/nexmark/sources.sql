-- The Nexmark tables from the built-in generator (10 million events: 200,000 people,
-- 600,000 auctions, 9.2 million bids; 10,000 events a second of event time). Each
-- query file reads the views person, auction and bid; run one with
--   cat examples/nexmark/sources.sql examples/nexmark/q5.sql | sluice sql -f -
CREATE VIEW person AS SELECT * FROM nexmark('person', events => 10000000);
CREATE VIEW auction AS SELECT * FROM nexmark('auction', events => 10000000);
CREATE VIEW bid AS SELECT * FROM nexmark('bid', events => 10000000);
