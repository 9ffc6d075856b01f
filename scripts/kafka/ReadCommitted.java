// Reads a topic to its end as a read_committed consumer sees it, and exits as soon as every partition is read up to its
// last stable offset (the console consumer can only stop after a time without records). Run by broker.mjs readCommitted().
//
// Usage (single-file source launch, Java 17+):
//   java -cp '<lib>/*' scripts/kafka/ReadCommitted.java <bootstrap> <topic> <timeout-ms>
// Prints one line per record, `<partition>\t<offset>\t<key>\t<value>` (key or value `null` when absent), then a line
// `end <records>`; exit 0 when the end was reached, 1 when the timeout came first.

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ReadCommitted {
  public static void main(String[] args) {
    String bootstrap = args[0];
    String topic = args[1];
    long deadline = System.currentTimeMillis() + Long.parseLong(args[2]);
    Properties c = new Properties();
    c.put("bootstrap.servers", bootstrap);
    c.put("isolation.level", "read_committed");
    c.put("enable.auto.commit", "false");
    c.put("key.deserializer", StringDeserializer.class.getName());
    c.put("value.deserializer", StringDeserializer.class.getName());
    StringBuilder out = new StringBuilder();
    long records = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofMillis(Math.max(1, deadline - System.currentTimeMillis()))))
        partitions.add(new TopicPartition(topic, p.partition()));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // Under read_committed the end offsets are the last stable offsets: nothing beyond them is readable yet.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (true) {
        boolean done = true;
        for (TopicPartition tp : partitions) if (consumer.position(tp) < end.get(tp)) done = false;
        if (done) break;
        if (System.currentTimeMillis() > deadline) {
          System.out.print(out);
          System.out.println("timeout " + records);
          System.exit(1);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          out.append(r.partition()).append('\t').append(r.offset()).append('\t').append(r.key()).append('\t').append(r.value()).append('\n');
          records++;
        }
      }
    }
    System.out.print(out);
    System.out.println("end " + records);
  }
}
