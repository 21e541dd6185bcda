/**
 * Amisi's embeddable components: the balance, the pack picker with checkout, and the usage
 * charts (a day at a time, and the cycle against the one before), for a platform's own React
 * pages. The platform's backend mints a short-lived key for the signed-in customer (POST /v1/accounts/{id}/keys with ttlSeconds) and passes it to
 * <AmisiProvider>; the Amisi server lists the page's origin in AMISI_CORS_ORIGINS. Styles:
 * import 'amisi-credits/embed/style.css' (every rule is under .amisi-embed; colours are CSS
 * variables to override). Example: examples/embed/.
 */
import './embed.css';

export {
  AmisiProvider,
  useAmisi,
  type AmisiProviderProps,
  type AmisiEmbedValue,
} from './provider.js';
export { AmisiBalance, type AmisiBalanceProps } from './balance.js';
export { AmisiPackPicker, type AmisiPackPickerProps } from './pack-picker.js';
export { AmisiDailyUsage, type AmisiDailyUsageProps } from './daily-usage.js';
export { AmisiUsageChart, type AmisiUsageChartProps, type UsageDimension } from './usage-chart.js';
