-- The Nexmark tables read from Kafka topics nexmark-person, nexmark-auction and
-- nexmark-bid (JSON messages, as load_kafka.sh writes them), each to the end offsets
-- at its start, with event time date_time and watermarks 2 s behind the newest event of
-- each partition. BROKERS is replaced by run.sh (run.sh --kafka HOST:PORT qN).
CREATE VIEW person AS SELECT * FROM read_kafka('nexmark-person', brokers => 'BROKERS',
  columns => 'id bigint, name varchar, email_address varchar, credit_card varchar, city varchar, state varchar, date_time timestamp, extra varchar',
  stop_at => 'end', event_time => 'date_time', watermark => '2s');
CREATE VIEW auction AS SELECT * FROM read_kafka('nexmark-auction', brokers => 'BROKERS',
  columns => 'id bigint, item_name varchar, description varchar, initial_bid bigint, reserve bigint, date_time timestamp, expires timestamp, seller bigint, category bigint, extra varchar',
  stop_at => 'end', event_time => 'date_time', watermark => '2s');
CREATE VIEW bid AS SELECT * FROM read_kafka('nexmark-bid', brokers => 'BROKERS',
  columns => 'auction bigint, bidder bigint, price bigint, channel varchar, url varchar, date_time timestamp, extra varchar',
  stop_at => 'end', event_time => 'date_time', watermark => '2s');
