/**
* Beia API Sample - Node.js Version
* Minimal error checking for clarity.
*
* Requirements: npm install axios form-data
*/
const fs = require('fs').promises;
const fsSync = require('fs');
const path = require('path');
const axios = require('axios');
const FormData = require('form-data');
// Configuration
const IMAGE_PATH = './001.jpg';
const LICENSE_ID = '';
const API_KEY = '';
const ENDPOINT_URL = 'https://aws.beiatechnology.com/beia-api/v1/image';
function validateInputs()
{
if (!fsSync.existsSync(IMAGE_PATH))
{
console.log(`Image file '${IMAGE_PATH}' not found`);
return false;
}
if (!LICENSE_ID || !LICENSE_ID.trim())
{
console.log('License ID is not set');
return false;
}
if (!API_KEY || !API_KEY.trim())
{
console.log('API key is not set');
return false;
}
return true;
}
async function main()
{
if (!validateInputs())
{
return;
}
try
{
const imageBuffer = await fs.readFile(IMAGE_PATH);
const formData = new FormData();
formData.append('apiKey', API_KEY);
formData.append('licenseId', LICENSE_ID);
formData.append('image', imageBuffer,
{
filename: path.basename(IMAGE_PATH),
contentType: 'application/octet-stream'
});
const headers =
{
...formData.getHeaders(),
'License-Id': LICENSE_ID
};
console.log('Sending request to Beia API...');
const response = await axios.post(ENDPOINT_URL, formData,
{
headers: headers,
responseType: 'arraybuffer'
});
const resultBytes = Buffer.from(response.data);
console.log(`Received ${resultBytes.length} bytes`);
await fs.writeFile('result.png', resultBytes);
console.log("Result image saved to 'result.png'");
}
catch (error)
{
if (error.response)
{
if (error.response.status === 403)
{
console.log('This IP is not authorized to use the API. Please contact Beia support.');
return;
}
console.log(`Response code: ${error.response.status}`);
}
else
{
console.log(`Exception: ${error.message}`);
}
}
}
main();
