// Transaction smoke check for a Kafka cluster (run by broker.mjs `smoke`): transactional producer, read_committed consumer, offsets in a transaction.
//
// Usage (single-file source launch, Java 17+):
//   java -cp '<lib>/*' scripts/kafka/TxSmoke.java <bootstrap> <topic-prefix>
// Prints one JSON line with counts and timings; exit 0 if everything matched.

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class TxSmoke {
  static Properties consumerProps(String bootstrap, String group, String isolation) {
    Properties c = new Properties();
    c.put("bootstrap.servers", bootstrap);
    c.put("group.id", group);
    c.put("isolation.level", isolation);
    c.put("auto.offset.reset", "earliest");
    c.put("enable.auto.commit", "false");
    c.put("key.deserializer", StringDeserializer.class.getName());
    c.put("value.deserializer", StringDeserializer.class.getName());
    return c;
  }

  static Properties producerProps(String bootstrap, String txId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("transactional.id", txId);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    return p;
  }

  /** Reads a topic from the start until `expect` values arrived and a few polls came back empty (or 30 s passed). */
  static List<String> drain(String bootstrap, String topic, String isolation, String group, int expect) {
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, group, isolation))) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 30_000;
      int idle = 0;
      while (System.currentTimeMillis() < deadline) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(250));
        records.forEach(r -> out.add(r.value()));
        if (records.isEmpty() && out.size() >= expect && ++idle >= 3) break;
      }
    }
    return out;
  }

  static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String in = args[1] + "-in";
    String out = args[1] + "-out";
    long t0 = System.nanoTime();
    Properties adminProps = new Properties();
    adminProps.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(adminProps)) {
      admin.createTopics(List.of(new NewTopic(in, 2, (short) 1), new NewTopic(out, 2, (short) 1))).all().get();
    }
    long createMs = ms(t0);

    // 100 committed, 50 aborted, 50 committed.
    long initMs;
    long t1 = System.nanoTime();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap, args[1] + "-tx"))) {
      producer.initTransactions();
      initMs = ms(t1);
      producer.beginTransaction();
      for (int i = 0; i < 100; i++) producer.send(new ProducerRecord<>(in, "k" + i, "c" + i));
      producer.commitTransaction();
      producer.beginTransaction();
      for (int i = 100; i < 150; i++) producer.send(new ProducerRecord<>(in, "k" + i, "a" + i));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      for (int i = 150; i < 200; i++) producer.send(new ProducerRecord<>(in, "k" + i, "c" + i));
      producer.commitTransaction();
    }
    long produceMs = ms(t1);

    List<String> committed = drain(bootstrap, in, "read_committed", args[1] + "-rc", 150);
    List<String> uncommitted = drain(bootstrap, in, "read_uncommitted", args[1] + "-ru", 200);
    long abortedSeen = committed.stream().filter(v -> v.startsWith("a")).count();

    // Consume-transform-produce: output records and input offsets commit in one transaction.
    int moved = 0;
    long committedOffsets = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, args[1] + "-ctp", "read_committed"));
         KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap, args[1] + "-ctp-tx"))) {
      producer.initTransactions();
      consumer.subscribe(List.of(in));
      long deadline = System.currentTimeMillis() + 30_000;
      while (moved < 150 && System.currentTimeMillis() < deadline) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(250));
        if (records.isEmpty()) continue;
        producer.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
          producer.send(new ProducerRecord<>(out, r.key(), r.value().toUpperCase()));
          offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          moved++;
        }
        producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
        producer.commitTransaction();
      }
      for (OffsetAndMetadata o : consumer.committed(java.util.Set.of(new TopicPartition(in, 0), new TopicPartition(in, 1))).values()) {
        if (o != null) committedOffsets += o.offset();
      }
    }
    List<String> output = drain(bootstrap, out, "read_committed", args[1] + "-out", 150);

    boolean ok = committed.size() == 150 && abortedSeen == 0 && uncommitted.size() == 200 && moved == 150
        && output.size() == 150 && committedOffsets >= 200;
    System.out.printf(
        "{\"ok\":%s,\"readCommitted\":%d,\"abortedSeen\":%d,\"readUncommitted\":%d,\"moved\":%d,\"output\":%d,"
            + "\"committedOffsets\":%d,\"createTopicsMs\":%d,\"initTransactionsMs\":%d,\"produceMs\":%d,\"totalMs\":%d}%n",
        ok, committed.size(), abortedSeen, uncommitted.size(), moved, output.size(), committedOffsets, createMs, initMs,
        produceMs, ms(t0));
    System.exit(ok ? 0 : 1);
  }
}
