// Test helper: a Parquet file as hyparquet (an independent JavaScript reader) reads it, in
// parquet_tool dump's JSON: int64 and timestamps as decimal strings (timestamps in
// microseconds since the epoch, whatever unit the file stores), floats as numbers or
// "NaN"/"Infinity"/"-Infinity", null for missing values.
// usage: node hyparquet_dump.mjs NODE_MODULES FILE   (hyparquet and hyparquet-compressors in it)
import { pathToFileURL } from 'node:url'

const [dir, file] = process.argv.slice(2)
const load = path => import(pathToFileURL(`${dir}/${path}`).href)
const { parquetReadObjects, parquetMetadataAsync } = await load('hyparquet/src/index.js')
const { asyncBufferFromFile } = await load('hyparquet/src/node.js')
const { compressors } = await load('hyparquet-compressors/src/index.js')

const buffer = await asyncBufferFromFile(file)
const metadata = await parquetMetadataAsync(buffer)
const names = metadata.schema.slice(1).map(e => e.name)
const micros = {
  timestampFromMilliseconds: v => BigInt(v) * 1000n,
  timestampFromMicroseconds: v => BigInt(v),
  timestampFromNanoseconds: v => BigInt(v) / 1000n,
  dateFromDays: v => BigInt(v) * 86400000000n,
}
const objects = await parquetReadObjects({ file: buffer, metadata, parsers: micros, compressors })
const cell = v => {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN'
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
    return v
  }
  if (v instanceof Uint8Array) return new TextDecoder().decode(v)
  return v
}
const rows = objects.map(o => names.map(n => cell(o[n])))
const types = metadata.schema.slice(1).map(e => ({
  type: e.type, logical: e.logical_type ?? null, converted: e.converted_type ?? null,
}))
process.stdout.write(JSON.stringify({ columns: names, types, rows }) + '\n')
