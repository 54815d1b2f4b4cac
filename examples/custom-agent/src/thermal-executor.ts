import type { Logger } from '@kraken/common';
import type { NodeInfoExtensions } from '@kraken/messages';
import type { Executor } from './executor.js';
import type { ZoneReading } from './thermal-zones.js';
import { readThermalZones } from './thermal-zones.js';

export interface ThermalExecutorOptions {
  /** Where the sensors are; tests point it at a directory of fake zones. */
  thermalDir: string;
  logger: Logger;
}

/**
 * Reports the machine's temperature in every node.info heartbeat. Each tick reads the sensors
 * (the periodic job); the worker asks `extensions()` for the latest reading at each heartbeat, so
 * a heartbeat never waits for the disk.
 *
 * In node.info `extensions`: `temperature.celsius` (the hottest zone now), `temperature.zone` (its
 * kernel type) and `temperature.maxCelsius` (the highest seen since start). A machine without a
 * sensor reports `temperature.sensor: "none"` instead, and says so once in the log.
 */
export class ThermalExecutor implements Executor {
  readonly name = 'thermal';
  private hottest: ZoneReading | undefined;
  private maxCelsius: number | undefined;
  private toldNoSensor = false;

  constructor(private readonly options: ThermalExecutorOptions) {}

  /** Takes a first reading, so the worker's first heartbeat already carries it. */
  async setup(): Promise<void> {
    await this.tick();
    if (this.hottest !== undefined) {
      this.options.logger.info('reporting the temperature in node.info', {
        zone: this.hottest.type,
        celsius: this.hottest.celsius,
      });
    }
  }

  async tick(): Promise<void> {
    const readings = await readThermalZones(this.options.thermalDir);
    this.hottest = readings.reduce<ZoneReading | undefined>(
      (hottest, reading) => (hottest === undefined || reading.celsius > hottest.celsius ? reading : hottest),
      undefined,
    );
    if (this.hottest === undefined) {
      if (!this.toldNoSensor) {
        this.options.logger.info(
          `no temperature sensor under ${this.options.thermalDir}: node.info reports temperature.sensor=none`,
        );
        this.toldNoSensor = true;
      }
      return;
    }
    this.maxCelsius = Math.max(this.maxCelsius ?? this.hottest.celsius, this.hottest.celsius);
  }

  /** What the worker adds to each node.info. Must stay within the protocol's limits (32 short entries). */
  extensions(): NodeInfoExtensions {
    if (this.hottest === undefined) return { 'temperature.sensor': 'none' };
    return {
      'temperature.celsius': this.hottest.celsius,
      'temperature.zone': this.hottest.type,
      'temperature.maxCelsius': this.maxCelsius ?? this.hottest.celsius,
    };
  }

  /** Nothing to release: each tick opens and closes its files. */
  stop(): Promise<void> {
    return Promise.resolve();
  }
}
