"""
Beia API Sample - Python Version
Minimal error checking for clarity.
"""
import os
import requests
# Configuration
IMAGE_PATH = "./001.jpg"
LICENSE_ID = ""
API_KEY = ""
ENDPOINT_URL = "https://aws.beiatechnology.com/beia-api/v1/image"
def validate_inputs():
    """Validates that all required inputs are present."""
    if not os.path.exists(IMAGE_PATH):
        print(f"Image file '{IMAGE_PATH}' not found")
        return False
    if not LICENSE_ID or not LICENSE_ID.strip():
        print("License ID is not set")
        return False
    if not API_KEY or not API_KEY.strip():
        print("API key is not set")
        return False
    return True
def main():
    """Main function - sends image to Beia API and processes response."""
    if not validate_inputs():
        return
    # Read image file
    with open(IMAGE_PATH, 'rb') as f:
        image_bytes = f.read()
    # Prepare headers
    # License ID header is recommended for load balancing purposes
    headers = {
        'License-Id': LICENSE_ID
    }
    # Build the multipart/form-data request body
    files = {
        'apiKey': (None, API_KEY),
        'licenseId': (None, LICENSE_ID),
        'image': (IMAGE_PATH, image_bytes, 'application/octet-stream')
    }
    try:
        print("Sending request to Beia API...")
        response = requests.post(ENDPOINT_URL, headers=headers, files=files)
        if not response.ok:
            if response.status_code == 403:
                print("This IP is not authorized to use the API. Please contact Beia support.")
                return
            print(f"Response code: {response.status_code}")
            return
        result_bytes = response.content
        print(f"Received {len(result_bytes)} bytes")
        with open("result.png", "wb") as f:
            f.write(result_bytes)
        print("Result image saved to 'result.png'")
    except Exception as ex:
        print(f"Exception: {ex}")
if __name__ == "__main__":
    main()
