#version 330
// Colour pass: upscales the CPPN's three channels from the internal resolution with a Catmull-Rom
// filter (sharper than bilinear, no blocks), then maps them to colour:
//   channel 0 picks the colour from the palette (a 256-entry table: a cosine palette or a gradient map),
//   channel 1 shades it, channel 2 adds highlights. Audio and beat uniforms push brightness and colour,
//   so the look breathes with the music.
// Where the net is read: a kaleidoscope folds the plane into mirrored wedges around the centre, then
// symmetry mirrors it (0 none, 0.5 left-right, 1 four-way, crossfaded between).
// Feedback keeps a fading copy of the last frame, scaled and turned, under the new one (trails).
// Without trails or chromatic shift there is no post pass: this one finishes the picture (on a software
// renderer each pass over the picture costs milliseconds).
// Edit this file while `vj live` runs: it reloads, and a compile error shows in the HUD.
uniform sampler2D cppn, cppn_next, previous, palette_lut;  // previous: a framebuffer's texture, row 0 at the bottom
uniform vec2 source_size;
uniform float aspect, hue_shift, contrast, brightness, beat, bass, treble, symmetry, kaleidoscope, feedback;
uniform float trail_scale, trail_angle;
uniform float next_amount;  // in a crossfade or morph: how much of cppn_next's colours (0: none, not read)
uniform bool finish;  // no post pass this frame (no trails, no chromatic shift): vignette and flash here
uniform float vignette, flash;
in vec2 uv;
out vec4 colour;

vec3 catmull_rom(sampler2D tex, vec2 p, vec2 size) {
    // 9-tap Catmull-Rom using bilinear fetches (after Jorge Jimenez / TheRealMJP).
    vec2 texel = p * size - 0.5;
    vec2 base = floor(texel) + 0.5;
    vec2 f = texel - floor(texel);
    vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
    vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
    vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
    vec2 w3 = f * f * (-0.5 + 0.5 * f);
    vec2 w12 = w1 + w2;
    vec2 t0 = (base - 1.0) / size, t3 = (base + 2.0) / size, t12 = (base + w2 / w12) / size;
    vec3 c = (texture(tex, vec2(t0.x, t0.y)).rgb * w0.x + texture(tex, vec2(t12.x, t0.y)).rgb * w12.x
              + texture(tex, vec2(t3.x, t0.y)).rgb * w3.x) * w0.y;
    c += (texture(tex, vec2(t0.x, t12.y)).rgb * w0.x + texture(tex, vec2(t12.x, t12.y)).rgb * w12.x
          + texture(tex, vec2(t3.x, t12.y)).rgb * w3.x) * w12.y;
    c += (texture(tex, vec2(t0.x, t3.y)).rgb * w0.x + texture(tex, vec2(t12.x, t3.y)).rgb * w12.x
          + texture(tex, vec2(t3.x, t3.y)).rgb * w3.x) * w3.y;
    return clamp(c, 0.0, 1.0);
}

vec3 palette(float t) {
    // Mirrored repeat: walking the hue runs along the table and back, so no palette has a seam.
    float m = 1.0 - abs(1.0 - mod(t, 2.0));
    return texture(palette_lut, vec2(0.5 / 256.0 + m * (255.0 / 256.0), 0.5)).rgb;
}

vec2 kaleidoscoped(vec2 p) {
    // Fold the angle into one wedge of pi/n and mirror every other one; 0.8 keeps the wedge on the picture.
    vec2 c = (p - 0.5) * vec2(aspect, 1.0);
    float wedge = 3.14159265 / kaleidoscope;
    float angle = abs(mod(atan(c.y, c.x) + wedge, 2.0 * wedge) - wedge);
    return 0.5 + 0.8 * length(c) * vec2(cos(angle) / aspect, sin(angle));
}

vec3 mirrored(sampler2D tex, vec2 p) {
    vec2 left_right = vec2(0.5 + abs(p.x - 0.5), p.y);
    vec2 four_way = vec2(left_right.x, 0.5 + abs(p.y - 0.5));
    float towards_lr = clamp(2.0 * symmetry, 0.0, 1.0), towards_four = clamp(2.0 * symmetry - 1.0, 0.0, 1.0);
    if (towards_four > 0.0) {  // uniform branches: one fetch set when the amount sits on a step
        vec3 four = catmull_rom(tex, four_way, source_size);
        return towards_four < 1.0 ? mix(catmull_rom(tex, left_right, source_size), four, towards_four) : four;
    }
    vec3 lr = catmull_rom(tex, left_right, source_size);
    return towards_lr < 1.0 ? mix(catmull_rom(tex, p, source_size), lr, towards_lr) : lr;
}

vec3 coloured(sampler2D tex, vec2 p) {
    // The net's channels at p as colour. Two nets are mixed after this, never before: a channel halfway
    // between two pictures' would pick palette colours that neither picture has.
    vec3 net = symmetry > 0.0 ? mirrored(tex, p) : catmull_rom(tex, p, source_size);
    vec3 hue = palette(net.r + hue_shift + 0.05 * treble);
    float shade = smoothstep(0.0, 1.0, net.g);
    return hue * mix(0.25, 1.0, shade) + pow(net.b, 6.0) * (0.35 + 0.5 * beat);
}

void main() {
    vec2 p = kaleidoscope >= 1.0 ? kaleidoscoped(uv) : uv;
    vec3 c = coloured(cppn, p);
    if (next_amount > 0.0) {
        c = mix(c, coloured(cppn_next, p), next_amount);
    }
    c = (c - 0.5) * contrast + 0.5;
    c *= brightness * (1.0 + 0.35 * beat + 0.15 * bass);
    if (feedback > 0.0) {  // where the last frame's pixel has flowed to: scaled and turned about the centre
        vec2 centred = (uv - 0.5) * vec2(aspect, 1.0);
        float s = sin(trail_angle), k = cos(trail_angle);
        vec2 from = mat2(k, s, -s, k) * centred / trail_scale;
        vec2 p = 0.5 + from / vec2(aspect, 1.0);
        c = max(c, feedback * texture(previous, vec2(p.x, 1.0 - p.y)).rgb);
    }
    c = clamp(c, 0.0, 1.0);  // what the coloured frame holds
    if (finish) {  // as post.frag does
        vec2 round_ = (uv - 0.5) * vec2(aspect / 1.7778, 1.0);
        c *= max(0.0, 1.0 - vignette * dot(round_, round_));
        c = mix(c, vec3(1.0), flash);
    }
    colour = vec4(clamp(c, 0.0, 1.0), 1.0);
}
