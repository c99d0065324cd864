// The node's log lines on /rosout (rcl_interfaces/msg/Log), where rqt_console and `ros2 topic echo /rosout` read
// them: every line the node's Logger lets through its level goes out too, stamped with the node's ROS time, with
// the structured fields appended as "key=value". The publisher is reliable and transient-local like rcl's, so a
// console that starts later still gets the recent lines.
import type { Publisher, Transport } from '../transport.ts';
import type { RosClock } from './action.ts';
import type { LogLevel } from './ros-args.ts';

// rcl_interfaces/msg/Log levels
const LEVEL: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

/** Publishes a node's log lines on /rosout (rcl_interfaces/msg/Log), reliable and transient-local like rcl. */
export class Rosout {
  private readonly publisher: Publisher;
  private publishing = false;
  private closed = false;

  constructor(
    transport: Transport,
    private readonly clock: RosClock,
    /** The logger name rcl gives the node: its namespace and name joined with dots ("arm.policy_node"). */
    private readonly name: string,
  ) {
    this.publisher = transport.advertise('/rosout', 'rcl_interfaces/msg/Log', 'rosout');
  }

  /** One log line, stamped with the node's ROS time; never throws or logs its own failure. */
  publish(level: LogLevel, message: string, fields: string): void {
    if (this.closed || this.publishing) return; // a failure to publish must not log itself in a loop
    this.publishing = true;
    try {
      this.clock.now();
      this.publisher.publish({
        stamp: { sec: this.clock.sec, nanosec: this.clock.nanosec },
        level: LEVEL[level],
        name: this.name,
        msg: fields ? `${message}${fields}` : message,
        file: '',
        function: '',
        line: 0,
      });
    } catch {
      // the line still went to stderr; /rosout is best effort
    } finally {
      this.publishing = false;
    }
  }

  /** Closes the /rosout publisher. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.publisher.close();
  }
}
