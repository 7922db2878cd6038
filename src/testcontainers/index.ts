export { BeiaMockContainer, BEIA_MOCK_IMAGE, BEIA_MOCK_PORT } from './beia-mock-container.js';
export type { LicenseInput } from './beia-mock-container.js';
export { StartedBeiaMockContainer } from './started-beia-mock-container.js';
// What a test needs with the container, so one import serves.
export { MockAdminClient, MockAdminError } from '../mock/light.js';
