#version 330
// Draws a texture over the viewport, bilinear: the live present pass (the graded picture scaled to the
// window) and the HUD panel (alpha-blended). `framebuffer_rows` says the texture's row 0 is its bottom row (a
// framebuffer's), not its top (an uploaded image's).
uniform sampler2D image;
uniform bool framebuffer_rows;
in vec2 uv;
out vec4 colour;

void main() {
    colour = texture(image, framebuffer_rows ? vec2(uv.x, 1.0 - uv.y) : uv);
}
