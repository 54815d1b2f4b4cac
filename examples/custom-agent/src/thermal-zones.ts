import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Where Linux lists its temperature sensors: thermal_zoneN/temp in millidegrees Celsius, thermal_zoneN/type. */
export const SYSFS_THERMAL_DIR = '/sys/class/thermal';

export interface ZoneReading {
  /** The directory name, e.g. `thermal_zone0`. */
  zone: string;
  /** What the kernel calls the sensor, e.g. `x86_pkg_temp`, `acpitz`, `cpu-thermal`. */
  type: string;
  celsius: number;
}

/**
 * Reads every thermal zone under `dir`. A machine without sensors (most VMs and containers) has no
 * zones, or no directory at all: that gives []. A zone that cannot be read right now (a disabled
 * sensor answers EINVAL or ENODATA) is left out rather than failing the others.
 */
export async function readThermalZones(dir: string = SYSFS_THERMAL_DIR): Promise<ZoneReading[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const zones = names.filter((name) => /^thermal_zone\d+$/.test(name));
  const readings = await Promise.all(zones.map((zone) => readZone(dir, zone)));
  return readings.filter((reading) => reading !== undefined);
}

async function readZone(dir: string, zone: string): Promise<ZoneReading | undefined> {
  let millidegrees: number;
  try {
    millidegrees = Number((await readFile(join(dir, zone, 'temp'), 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(millidegrees)) return undefined;
  const type = await readFile(join(dir, zone, 'type'), 'utf8').then(
    (text) => text.trim().slice(0, 64),
    () => '',
  );
  return { zone, type: type || zone, celsius: Math.round(millidegrees / 100) / 10 };
}
