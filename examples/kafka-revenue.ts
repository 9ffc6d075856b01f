// The Customer Revenue Pipeline on Kafka: orders topic → event time per partition (30 s out-of-orderness) → drop refunds → hourly revenue per customer → output topic (exactly once); late orders → their own topic.
//   npm run demo:kafka                         (starts a local broker, produces orders, runs this job, prints the output topic)
//   weir run examples/kafka-revenue.ts -p 2 --param bootstrap=HOST:PORT [--param orders=TOPIC --param output=TOPIC ...]
//
// params: bootstrap (required), orders (topic, 'orders'), output (topic, 'revenue'), late (topic,
// 'late-orders'), checkpointMs (1000), txPrefix (transactional id prefix, 'kafka-revenue'),
// follow (read on after the end offsets found at start: 'false').
import { Time, TumblingEventTimeWindows, WatermarkStrategy, defineJob, kafkaSink, kafkaSource } from '../src/index.ts';
import { LATE_ORDERS, MAX_OUT_OF_ORDERNESS, WINDOW_SIZE, sumAmounts, type CustomerRevenue, type Order } from './revenue-pipeline.ts';

export default defineJob((env, params) => {
  if (params.bootstrap === undefined) throw new RangeError('param bootstrap (HOST:PORT of a Kafka broker) is required');
  const brokers = String(params.bootstrap).split(',');
  env.enableCheckpointing(Number(params.checkpointMs ?? 1000));
  const orders = env.fromSource(
    kafkaSource<Order>({
      brokers,
      topics: [String(params.orders ?? 'orders')],
      deserializer: 'json',
      // a bounded run reads what the topic holds when the job starts; follow=true reads on forever
      stopAtOffsets: params.follow === 'true' ? undefined : 'latest',
    }),
    // watermarks per partition: the job's watermark is the minimum over the partitions
    WatermarkStrategy.forBoundedOutOfOrderness<Order>(MAX_OUT_OF_ORDERNESS).withTimestampAssigner((o) => o.ts),
    'Orders',
  );
  const revenue = orders
    .filter((o) => o.amount > 0)
    .name('Paid Orders')
    .keyBy((o) => o.customerId)
    .window(TumblingEventTimeWindows.of(WINDOW_SIZE))
    .sideOutputLateData(LATE_ORDERS)
    .aggregate<number, number, CustomerRevenue>(sumAmounts, (customerId, ctx, sums, out) => {
      const w = ctx.window();
      for (const cents of sums) out.collect({ customerId, windowStart: w.start, windowEnd: w.end, revenue: cents });
    })
    .name('Hourly Revenue')
    .uid('hourly-revenue');
  const txPrefix = String(params.txPrefix ?? 'kafka-revenue');
  revenue
    .sinkTo(
      kafkaSink<CustomerRevenue>({
        brokers,
        topic: String(params.output ?? 'revenue'),
        key: (r) => r.customerId,
        guarantee: 'exactly-once',
        transactionalIdPrefix: `${txPrefix}-revenue`,
      }),
    )
    .name('Revenue Topic')
    .uid('revenue-topic');
  revenue
    .getSideOutput(LATE_ORDERS)
    .sinkTo(
      kafkaSink<Order>({
        brokers,
        topic: String(params.late ?? 'late-orders'),
        key: (o) => o.customerId,
        guarantee: 'exactly-once',
        transactionalIdPrefix: `${txPrefix}-late`,
      }),
    )
    .name('Late Orders Topic')
    .uid('late-topic');
});
