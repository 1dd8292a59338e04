import { InvalidArgumentError, Option } from 'commander';

export function floatOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${value}'`);
    return n;
  };
}

export function backendOption(): Option {
  return new Option('--backend <name>', "compute backend: 'auto' takes the fastest available (native oneDNN, else wasm)").choices(['auto', 'native', 'wasm', 'cpu']).default('auto');
}

export function fractionOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n >= 0.5) throw new InvalidArgumentError(`${name} must be a share from 0 to under 0.5, got '${value}'`);
    return n;
  };
}
